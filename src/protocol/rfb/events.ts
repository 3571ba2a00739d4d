/**
 * What the sans-I/O RFB client reports to its owner (the VNC engine session). Pixel data is already in
 * the Framebuffer the client was given; events say where it changed and how, so the display encoder can
 * choose `copy`, `rect`+`cfill` or an image.
 */
import type { Rect } from '../../engine/display/framebuffer.js';

export type RfbEvent =
  /** Handshake done (ServerInit received, our SetPixelFormat/SetEncodings sent). */
  | { type: 'ready'; width: number; height: number; name: string }
  /** A FramebufferUpdate began (the server's frame). */
  | { type: 'frame-start' }
  /** Pixels in `rect` were written to the framebuffer (Raw, Hextile, ZRLE, Tight basic...). */
  | { type: 'update'; rect: Rect }
  /** `rect` was filled with one colour (already written), 0xRRGGBB. */
  | { type: 'fill'; rect: Rect; rgb: number }
  /** CopyRect (already applied to the framebuffer): the area at (srcX, srcY) moved to `rect`. */
  | { type: 'copy'; srcX: number; srcY: number; rect: Rect }
  /** A Tight JPEG rectangle: send `data` as image/jpeg unchanged; registered as pending in the framebuffer. */
  | { type: 'jpeg'; rect: Rect; data: Uint8Array }
  /** The FramebufferUpdate ended: a frame boundary (emit `sync`). */
  | { type: 'frame-end' }
  /** DesktopSize / ExtendedDesktopSize: the framebuffer was resized (contents cleared). */
  | { type: 'resize'; width: number; height: number }
  /** Cursor pseudo-encoding: RGBA w×h with alpha from the mask, hotspot. */
  | { type: 'cursor'; hotX: number; hotY: number; width: number; height: number; rgba: Uint8Array }
  /** Server clipboard text, decoded per clipboard-encoding (or UTF-8 via extended clipboard). */
  | { type: 'clipboard'; text: string }
  | { type: 'bell' }
  /** Fatal: the session must end with this Guacamole status. */
  | { type: 'error'; status: number; message: string };
