#!/usr/bin/env node
// Writes bin/<plugin>: executables a container runtime can exec directly.
// (First version: a /bin/sh launcher around dist/; the start-up-optimised
// bundle replaces it later.)
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const plugins = ['loopback', 'host-local', 'bridge']
mkdirSync(join(root, 'bin'), { recursive: true })
for (const name of plugins) {
  const entry = join(root, 'dist', 'plugins', name, 'main.js')
  if (!existsSync(entry)) continue
  const file = join(root, 'bin', name)
  writeFileSync(file, `#!/bin/sh\n# tscni-plugin: ${name}\nunset NODE_EXTRA_CA_CERTS\nexec ${process.execPath} ${JSON.stringify(entry)} "$@"\n`)
  chmodSync(file, 0o755)
}
