import type { BuildOptions } from 'esbuild';

export declare const serverBuildOptions: BuildOptions;
/** Bundles the plugin's server into dist/server/index.js (CommonJS); resolves to its path. */
export declare function buildServer(): Promise<string>;
