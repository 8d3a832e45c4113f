// Plain-text output of the demo: aligned tables and status marks, nothing
// that needs a terminal library. Colour only when stdout is a terminal.

const useColour = process.stdout.isTTY === true && process.env.NO_COLOR === undefined

function paint (code: number, text: string): string { return useColour ? `\x1b[${code}m${text}\x1b[0m` : text }
export const green = (s: string): string => paint(32, s)
export const red = (s: string): string => paint(31, s)
export const bold = (s: string): string => paint(1, s)
export const dim = (s: string): string => paint(2, s)

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g
function width (s: string): number { return s.replace(ANSI, '').length }

/** Rows of cells as an aligned table, with a rule under the header. */
export function table (header: string[], rows: string[][], indent = '  '): string {
  const cols = header.length
  const widths = Array.from({ length: cols }, (_, c) => Math.max(width(header[c] ?? ''), ...rows.map(r => width(r[c] ?? ''))))
  const line = (cells: string[]): string =>
    indent + cells.map((cell, c) => c === cols - 1 ? cell : cell + ' '.repeat((widths[c] ?? 0) - width(cell))).join('  ').trimEnd()
  return [line(header.map(bold)), indent + widths.map(w => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

/** "12 ms" / "1.3 s". */
export function duration (ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`
}
