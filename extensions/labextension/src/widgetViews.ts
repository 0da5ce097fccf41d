/**
 * The notebook widgets' views, bundled (loaded on first use, with their styles): the very
 * modules anywidget would otherwise get from the kernel as `_esm` (see workspaceWidgets.ts).
 */
import '../../../widgets/cohortlab.css';
import '../../../widgets/live.css';

export { default as quiz } from '../../../widgets/quiz.js';
export { default as leaderboard } from '../../../widgets/leaderboard.js';
