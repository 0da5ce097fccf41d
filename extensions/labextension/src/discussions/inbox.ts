import { ICohortLabClient, ICohortLabEvent } from '../tokens';
import { button, el } from './render';

interface INotification {
  id: number;
  kind: 'reply' | 'mention' | 'answer' | 'endorsement';
  course: string;
  thread_id: number;
  post_id: number | null;
  created_at: string;
  read: boolean;
}

const KIND_TEXT: Record<string, string> = {
  reply: 'New reply in a thread you follow',
  mention: 'You were mentioned',
  answer: 'Your reply was accepted as the answer',
  endorsement: 'Staff endorsed your post'
};

/**
 * The notifications indicator: an unread count refreshed on each event, and a
 * list whose items open their thread (and its cell) in the discussion panel.
 */
export class Inbox {
  readonly node: HTMLElement;

  constructor(
    private readonly client: ICohortLabClient,
    private readonly openThread: (course: string, threadId: number) => void
  ) {
    this.node = el('div', { class: 'cl-Inbox' });
    this.toggleButton = button('🔔 0', 'cl-notifications', () => void this.toggle());
    this.toggleButton.setAttribute('aria-expanded', 'false');
    this.list = el('ul', { class: 'cl-Inbox-list', 'aria-label': 'Notifications' });
    this.list.hidden = true;
    this.node.append(this.toggleButton, this.list);
    client.events.connect(this.onEvent, this);
    void this.load();
  }

  private onEvent(_: ICohortLabClient, event: ICohortLabEvent): void {
    if (event.type === 'notification') {
      // events carry ids only; the count and list are fetched as this person
      void this.load();
    }
  }

  private setUnread(unread: number): void {
    this.toggleButton.textContent = `🔔 ${unread}`;
    this.toggleButton.dataset.unread = String(unread);
    this.toggleButton.setAttribute(
      'aria-label',
      unread ? `${unread} unread notification${unread === 1 ? '' : 's'}` : 'No unread notifications'
    );
  }

  private async load(): Promise<void> {
    try {
      const data = await this.client.requestAPI<{ notifications: INotification[]; unread: number }>(
        'notifications'
      );
      this.setUnread(data.unread);
      this.render(data.notifications);
    } catch {
      // the panel's own error line says when the service is unreachable
    }
  }

  private async toggle(): Promise<void> {
    this.list.hidden = !this.list.hidden;
    this.toggleButton.setAttribute('aria-expanded', String(!this.list.hidden));
    if (!this.list.hidden) {
      await this.load();
    }
  }

  private render(items: INotification[]): void {
    this.list.replaceChildren();
    if (items.length === 0) {
      this.list.append(el('li', { class: 'cl-Discussion-empty' }, 'Nothing new.'));
      return;
    }
    for (const n of items) {
      const item = el('li', {});
      const open = button(KIND_TEXT[n.kind] ?? n.kind, 'cl-notification', () => {
        void this.client
          .requestAPI('notifications/read', { method: 'POST', body: JSON.stringify({ ids: [n.id] }) })
          .then(() => this.load());
        this.list.hidden = true;
        this.openThread(n.course, n.thread_id);
      });
      open.classList.toggle('cl-Inbox-unread', !n.read);
      item.append(open);
      this.list.append(item);
    }
    const all = button('Mark all read', 'cl-notifications-read', () =>
      void this.client
        .requestAPI('notifications/read', { method: 'POST', body: JSON.stringify({ all: true }) })
        .then(() => this.load())
    );
    this.list.append(el('li', {}), all);
  }

  private toggleButton: HTMLButtonElement;
  private list: HTMLElement;
}
