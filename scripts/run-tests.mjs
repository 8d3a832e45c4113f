#!/usr/bin/env node
// `npm test`: runs tap over test/**/*.test.ts and ends with one plain line,
// "tests: N passed, N failed, N skipped", that CI and people can read.
import { spawn } from 'node:child_process'

const args = process.argv.slice(2)
const child = spawn(process.execPath, [new URL('../node_modules/tap/dist/esm/run.mjs', import.meta.url).pathname, ...args], {
  stdio: ['inherit', 'pipe', 'inherit']
})
let tail = ''
child.stdout.on('data', (d) => {
  process.stdout.write(d)
  tail = (tail + d.toString()).slice(-4096)
})
child.on('close', (code) => {
  // tap's closing line: "# { total: 12, pass: 10, fail: 1, skip: 1 }"
  const m = /#\s*\{([^}]*)\}\s*(?:\n|$)(?![\s\S]*#\s*\{)/.exec(tail)
  const field = (name) => { const r = new RegExp(`${name}:\\s*(\\d+)`).exec(m?.[1] ?? ''); return r ? Number(r[1]) : 0 }
  const passed = field('pass'); const failed = field('fail'); const skipped = field('skip') + field('todo')
  if (m === null || passed + failed === 0) {
    console.log('tests: 0 passed, 1 failed (no test ran or no summary was printed)')
    process.exit(code === 0 ? 1 : code ?? 1)
  }
  console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`)
  process.exit(code ?? 1)
})
