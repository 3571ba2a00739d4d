/**
 * Loading uWebSockets.js. The official builds need glibc 2.38 (Debian 12 has 2.36); `uws-pack` 20.0.8 is a
 * repackaged uWS.js (late 2024) whose Node 20 binary loads here (docs/proxy.md). Its package.json says
 * node >= 22, which npm reports as EBADENGINE; the Node 20 (ABI 115) binary is included and is what we test.
 */
export type Uws = typeof import('uws-pack');

/** Imports uws-pack, or throws an Error that says what failed and what to do. */
export async function loadUws(): Promise<Uws> {
  try {
    return await import('uws-pack');
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n').slice(-1)[0] : String(err);
    throw new Error(
      `uWebSockets.js (uws-pack 20.0.8) cannot be loaded on Node ${process.version} ` +
        `${process.platform}/${process.arch} (ABI ${process.versions.modules}): ${why}. ` +
        'The proxy needs it; see docs/proxy.md ("uWebSockets.js build").',
    );
  }
}
