/**
 * The RDP benchmark's markdown report (pure): one column group per resolution (gatehouse-rdp, xfreerdp,
 * ratio), a paragraph of details per resolution, guacd's published figures compared, and the goals table.
 */
import { goalsSection, type Verdict } from '../helpers/goals.js';
import {
  f,
  GUACD,
  label,
  MB,
  mb,
  type ReportMeta,
  type ResolutionResult,
  SAME_STREAM_TOLERANCE,
  sameStream,
} from './report.js';

function ratio(a: number, b: number): string {
  return f(a / b, 2);
}

function mainTable(results: readonly ResolutionResult[]): string[] {
  const head = results.map((r) => `${label(r)} gatehouse-rdp | xfreerdp | ratio`).join(' | ');
  const lines = [`| metric | ${head} |`, `| --- |${results.map(() => ' ---: | ---: | ---: |').join('')}`];
  const row = (name: string, cells: (r: ResolutionResult) => [string, string, string]): void => {
    lines.push(`| ${name} | ${results.map((r) => cells(r).join(' | ')).join(' | ')} |`);
  };
  row('server frames/s (the same frames for both)', (r) => [
    f(r.summary.serverFps),
    f(r.summary.serverFps),
    '',
  ]);
  row('frames/s delivered (gatehouse: `sync`s)', (r) => [f(r.summary.deliveredFps), '', '']);
  row('RDP in, MB/s', (r) => {
    const s = r.summary;
    return [
      f(s.gatehouse.rdpInMBps, 2),
      f(s.xfreerdp.rdpInMBps, 2),
      ratio(s.gatehouse.rdpInMBps, s.xfreerdp.rdpInMBps),
    ];
  });
  row('RDP in per server frame, KB', (r) => {
    const s = r.summary;
    return [
      f(s.gatehouse.rdpBytesPerFrame / 1000),
      f(s.xfreerdp.rdpBytesPerFrame / 1000),
      ratio(s.gatehouse.rdpBytesPerFrame, s.xfreerdp.rdpBytesPerFrame),
    ];
  });
  row('Guacamole out, MB/s', (r) => [f(r.summary.guacMBps, 2), '', '']);
  row('Guacamole bytes per delivered frame, KB', (r) => [f(r.summary.guacBytesPerFrame / 1000), '', '']);
  row('CPU, % of one core', (r) => {
    const s = r.summary;
    return [
      f(s.gatehouse.cpuPercent),
      f(s.xfreerdp.cpuPercent),
      ratio(s.gatehouse.cpuPercent, s.xfreerdp.cpuPercent),
    ];
  });
  row('**CPU ms per server frame**', (r) => {
    const s = r.summary;
    return [f(s.gatehouse.cpuMsPerFrame, 2), f(s.xfreerdp.cpuMsPerFrame, 2), `**${f(s.cpuRatio, 2)}**`];
  });
  row('+ relay (`gatehouse engine`, Node), CPU %', (r) => [f(r.summary.relay.cpuPercent), '', '']);
  row('RSS at the end of the animation, MB', (r) => {
    const m = r.memory;
    return [
      mb(m.gatehouse.rssBytes),
      mb(m.xfreerdp.rssBytes),
      ratio(m.gatehouse.rssBytes, m.xfreerdp.rssBytes),
    ];
  });
  row('RSS on a static screen, MB', (r) => [
    mb(r.idleMemory.gatehouse.rssBytes),
    mb(r.idleMemory.xfreerdp.rssBytes),
    ratio(r.idleMemory.gatehouse.rssBytes, r.idleMemory.xfreerdp.rssBytes),
  ]);
  row('peak RSS (VmHWM), MB', (r) => [mb(r.memory.gatehouse.hwmBytes), mb(r.memory.xfreerdp.hwmBytes), '']);
  row('PSS, MB', (r) => [mb(r.memory.gatehouse.pssBytes), mb(r.memory.xfreerdp.pssBytes), '']);
  row('USS (private), MB', (r) => [mb(r.memory.gatehouse.ussBytes), mb(r.memory.xfreerdp.ussBytes), '']);
  row('anonymous (heap, framebuffers), MB', (r) => [
    mb(r.memory.gatehouse.anonBytes),
    mb(r.memory.xfreerdp.anonBytes),
    '',
  ]);
  row('N sessions at once: PSS per session, MB', (r) => [
    `${mb(r.fleet.perSession.pssBytes)} (N = ${r.fleet.sessions})`,
    '',
    '',
  ]);
  row('CPU on a static screen, % of one core', (r) => [
    f(r.idle.gatehouseCpuPercent, 2),
    f(r.idle.xfreerdpCpuPercent, 2),
    '',
  ]);
  row('connect → first frame, median ms', (r) => [
    `${f(r.firstFrame.medianMs, 0)} (${f(r.firstFrame.minMs, 0)}–${f(r.firstFrame.maxMs, 0)})`,
    '',
    '',
  ]);
  return lines;
}

function memoryLine(r: ResolutionResult): string {
  const b = r.memory.breakdown;
  if (!b) return '';
  const fb = 2 * r.width * r.height * 4;
  const libs = b.top
    .filter((m) => m.name.startsWith('/'))
    .slice(0, 5)
    .map((m) => `${m.name.slice(m.name.lastIndexOf('/') + 1)} ${mb(m.rssBytes)}`);
  return (
    ` gatehouse-rdp's RSS: anonymous ${mb(b.anonBytes)} MB (two ${label(r)} BGRX framebuffers, FreeRDP's and ` +
    `the engine's copy of the client's screen, are ${mb(fb)} MB of it), shared libraries' pages ` +
    `${mb(b.fileBytes)} MB (largest: ${libs.join(', ')} MB).`
  );
}

function details(r: ResolutionResult): string {
  const s = r.summary;
  const same = sameStream(s);
  const warn =
    same === false
      ? ' **Warning: the two clients were not sent the same stream (RDP bytes per frame differ by more ' +
        `than ${SAME_STREAM_TOLERANCE * 100} %): xfreerdp's options do not match the engine's codec settings.**`
      : '';
  const threads = Object.entries(s.gatehouseThreads).sort((a, b) => b[1] - a[1]);
  const tTotal = threads.reduce((n, [, v]) => n + v, 0);
  const images = Object.entries(s.images).map(([k, v]) => `${k.replace('image/', '')} ${v}`);
  const ins = s.instructions;
  return (
    `**${label(r)}**: CPU per frame gatehouse-rdp / xfreerdp by round: ` +
    `${r.perRound.map((x) => f(x.cpuRatio, 2)).join(', ')}. gatehouse-rdp CPU by thread: ` +
    `${threads.map(([k, v]) => `${k} ${f((100 * v) / Math.max(tTotal, 1e-9), 0)} %`).join(', ')}. ` +
    `Sent ${s.serverFrames} server frames as ${ins.sync ?? 0} syncs: images ${images.join(', ') || 'none'}; ` +
    `rect ${ins.rect ?? 0}, copy ${ins.copy ?? 0}, cursor ${ins.cursor ?? 0}. ` +
    `Alongside: freerdp-shadow-cli ${f(s.serverCpuPercent)} %, its Xvfb ${f(s.xserverCpuPercent)} %, ` +
    `xfreerdp's Xvfb ${f(s.clientXCpuPercent)} % of a core; machine ${f(s.machineBusyPercent)} % busy.` +
    memoryLine(r) +
    warn
  );
}

function guacdParagraph(results: readonly ResolutionResult[]): string {
  const parts = results.map((r) => {
    const m = r.memory.gatehouse;
    const pss = r.fleet.perSession.pssBytes;
    return (
      `${label(r)}: RSS ${mb(m.rssBytes)} MB (${ratio(GUACD.rssMb * MB, m.rssBytes)}× less than guacd's), ` +
      `PSS ${mb(pss)} MB per session with ${r.fleet.sessions} open (${ratio(GUACD.rssMb * MB, pss)}× less); ` +
      `${f(r.idle.gatehouseCpuPercent / 100, 3)} core on a static screen, ` +
      `${f(r.summary.gatehouse.cpuPercent / 100, 2)} core under the animation`
    );
  });
  return (
    `guacd's published figures (a load test of 300 RDP sessions on 16 cores): ~${GUACD.rssMb} MB and ` +
    `~${GUACD.cores} core per typical session, i.e. mostly idle desktops with bursts. Per gatehouse-rdp ` +
    `session here — ${parts.join('; ')}. The animation is a worst case (the screen changes at the server's ` +
    `full frame rate, with a full-screen repaint every 0.5 s), so its figure bounds a typical session's from above and the static one from below. ` +
    `RSS counts FreeRDP's shared libraries in full in every process; the PSS of several sessions divides ` +
    `them among the processes, as guacd's "memory / sessions" does.`
  );
}

export function formatMarkdown(
  meta: ReportMeta,
  results: readonly ResolutionResult[],
  goals: readonly Verdict[],
): string {
  const lines = [
    `### RDP engine vs xfreerdp — ${meta.date.slice(0, 10)}, ${meta.server}, ${meta.cores} cores ` +
      `(${meta.cpus}), Node ${meta.node}${meta.quick ? ' (--quick)' : ''}`,
    '',
    `Animation for ${f(meta.seconds, 0)} s per resolution (${meta.rounds} rounds, medians; ${meta.warmupSec} s ` +
      `warm-up): full-screen colour changes, a moving xterm, scrolling text. gatehouse-rdp (through ` +
      '`gatehouse engine`, a Guacamole client answering every `sync`, decoding nothing) and xfreerdp ' +
      `(\`${meta.xfreerdpArgs.join(' ')}\`, on its own Xvfb) watch the same server at the same time; CPU per ` +
      `frame divides each one's CPU by the same server frames. First frame: median of ${meta.connects} ` +
      `connects on a static screen; then ${meta.sessions} sessions open at once for the memory per session. ` +
      `Engine: \`${meta.engineBinary}\` built ${meta.engineBuilt.slice(0, 19).replace('T', ' ')} UTC` +
      (Object.keys(meta.engineParams).length > 0
        ? `, with ${Object.entries(meta.engineParams)
            .map(([k, v]) => `\`${k}=${v}\``)
            .join(', ')}.`
        : '.'),
    '',
    ...mainTable(results),
    '',
    ...results.map(details).flatMap((d) => [d, '']),
    guacdParagraph(results),
    '',
    ...goalsSection(goals),
  ];
  return lines.join('\n');
}
