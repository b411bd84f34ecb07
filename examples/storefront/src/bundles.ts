import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));

/** The browser scripts, bundled at start-up (no build step before `pnpm demo` or the tests). */
export async function buildClientBundles(): Promise<{ storefront: string; react: string; static: string }> {
  const bundle = async (entry: string) => {
    const r = await build({
      entryPoints: [join(here, entry)],
      bundle: true,
      minify: true,
      format: 'iife',
      target: ['es2020'],
      write: false,
      conditions: ['@attune/source'],
      define: { 'process.env.NODE_ENV': '"production"' },
      jsx: 'automatic',
      legalComments: 'none',
    });
    return r.outputFiles[0]?.text ?? '';
  };
  const [storefront, react, staticPage] = await Promise.all([bundle('client.ts'), bundle('react-client.tsx'), bundle('static-client.ts')]);
  return { storefront, react, static: staticPage };
}
