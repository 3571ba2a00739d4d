// The client page's test hook (window.gatehouse: state, status, the Guacamole client) as the browser tests
// use it, and where a remote pixel is on the page: shared by the VNC (proxy-browser) and RDP browser tests.
import type { Page } from 'playwright-core';

/** The page's window.gatehouse, as far as the tests use it. */
export interface GatehouseHook {
  gatehouse: {
    state(): string;
    status(): { code: number | null; message: string | null } | null;
    client: {
      getDisplay(): {
        flush(cb: () => void): void;
        getWidth(): number;
        getHeight(): number;
        getScale(): number;
        flatten(): {
          getContext(k: '2d'): {
            getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
          };
        };
        getDefaultLayer(): {
          getCanvas(): {
            getContext(k: '2d'): {
              getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
            };
          };
        };
        getElement(): {
          getBoundingClientRect(): { left: number; top: number; width: number; height: number };
        };
      };
    } | null;
  };
}

/**
 * Where a remote (x, y) is in the page, given the page's scaling of the display. Guacamole divides the
 * mouse event's (whole-pixel) position in the element by the scale and floors it, so this picks the whole
 * page pixel that maps back to exactly (x, y) when there is one (scaled down, some pixels have none).
 */
export function pagePoint(page: Page, rx: number, ry: number): Promise<{ x: number; y: number }> {
  return page.evaluate(
    ([rx, ry]) =>
      new Promise<{ x: number; y: number }>((resolve, reject) => {
        const client = (globalThis as unknown as GatehouseHook).gatehouse.client;
        if (!client) return reject(new Error('no client'));
        const d = client.getDisplay();
        // After the frames received so far are drawn: the page says connected on the first sync, and the
        // display's size (hence its scale) may not be applied yet.
        d.flush(() => {
          const box = d.getElement().getBoundingClientRect();
          const s = d.getScale();
          const pick = (r: number, origin: number): number => {
            const e = Math.ceil(r * s - 1e-9);
            return Math.floor(e / s) === r ? origin + e : origin + r * s + s / 2;
          };
          resolve({ x: pick(rx as number, box.left), y: pick(ry as number, box.top) });
        });
      }),
    [rx, ry],
  );
}
