import { JupyterFrontEndPlugin } from '@jupyterlab/application';

/**
 * Text other people wrote (posts, replies, review comments, cohort chat) carries no
 * JupyterLab command links.
 *
 * JupyterLab's sanitizer keeps `data-commandlinker-command` (notebooks use it for tutorial
 * buttons), and its CommandLinker runs the command of any clicked element that carries it,
 * after a "Run command?" prompt for untrusted content — one click from social engineering
 * ("click to see the solution" opening a terminal). So peers' text is disarmed where we
 * render it, and a click on a command link inside any peer's text (ours, or a chat
 * message drawn by jupyterlab-chat) is stopped before the CommandLinker sees it.
 */

const COMMAND_ATTRS = ['data-commandlinker-command', 'data-commandlinker-args'];

/** Where other people's text is drawn: our Markdown, and jupyterlab-chat's messages. */
export const PEER_TEXT_SELECTOR = '.cl-Markdown, .jp-chat-rendered-message';

/** Remove every command link from `root` (the elements stay, as inert text). */
export function disarmCommandLinks(root: Element): void {
  const selector = COMMAND_ATTRS.map(a => `[${a}]`).join(',');
  const found = [root, ...Array.from(root.querySelectorAll(selector))];
  for (const node of found) {
    for (const attr of COMMAND_ATTRS) {
      node.removeAttribute(attr);
    }
  }
}

/** Stop clicks on command links inside peers' text; true when a click was stopped. */
export function stopPeerCommand(event: Event): boolean {
  const target = event.target;
  if (!(target instanceof Element)) {
    return false;
  }
  const link = target.closest(COMMAND_ATTRS.map(a => `[${a}]`).join(','));
  const peer = link?.closest(PEER_TEXT_SELECTOR);
  if (!link || !peer) {
    return false;
  }
  event.preventDefault();
  event.stopImmediatePropagation();
  disarmCommandLinks(peer);
  return true;
}

/** Installs the guard once for the whole page (capture phase, before the CommandLinker). */
export const peerTextPlugin: JupyterFrontEndPlugin<void> = {
  id: 'cohortlab:peer-text',
  description: "No JupyterLab command runs from a link in someone else's text.",
  autoStart: true,
  activate: () => {
    document.addEventListener('click', stopPeerCommand, true);
    document.addEventListener('auxclick', stopPeerCommand, true);
  }
};
