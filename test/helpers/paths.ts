export { fromRoot, repoRoot } from '../../src/util/paths.js';
