// The start of every plugin process: compile the plugin bundle with a V8 code
// cache, so the ~90-180 KB of JavaScript is not parsed again on every exec.
// One cache per plugin and CNI command (an ADD compiles other functions than
// VERSION), written after the first run that had none, or whose cache V8
// rejected (another node binary), atomically; a read-only directory just
// goes without. argv: run.cjs <plugin>.
'use strict'
const fs = require('node:fs')
const { Script } = require('node:vm')
const { join } = require('node:path')
const { createRequire } = require('node:module')

const file = join(__dirname, `${process.argv[2]}.cjs`)
const command = /^[A-Z]{1,10}$/.test(process.env.CNI_COMMAND ?? '') ? process.env.CNI_COMMAND : 'NONE'
const cacheFile = `${file}.${command}.cache`
let cachedData
try { cachedData = fs.readFileSync(cacheFile) } catch {}
const script = new Script(`(function(exports,require,module,__filename,__dirname){${fs.readFileSync(file, 'utf8')}\n})`, { filename: file, cachedData })
if (cachedData === undefined || script.cachedDataRejected === true) {
  process.once('exit', () => {
    try {
      const tmp = `${cacheFile}.${process.pid}`
      fs.writeFileSync(tmp, script.createCachedData())
      fs.renameSync(tmp, cacheFile)
    } catch {}
  })
}
// The bundle sees argv as if it were run directly: [node, <name>, args…].
process.argv.splice(1, 1)
const mod = { exports: {} }
script.runInThisContext()(mod.exports, createRequire(file), mod, file, __dirname)
