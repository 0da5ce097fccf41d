// Types for the lab extension, which bundles this view (extensions/labextension/src/widgetViews.ts).
declare const view: {
  render(props: { model: unknown; el: HTMLElement }): void | (() => void) | Promise<void | (() => void)>;
};
export default view;
