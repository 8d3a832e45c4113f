#!/usr/bin/env node
// Writes the JSON Schema of each plugin's config and of a conflist to
// schemas/*.json, generated from the zod schemas the plugins use
// (dist/cli/schemas.js, so run after tsc). A file is rewritten only when
// its content changes. test/cli/validate.test.ts checks they are current.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

export function schemaFiles (schemas) {
  return Object.entries(schemas).map(([name, json]) => [`${name}.json`, JSON.stringify(json, null, 2) + '\n'])
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { jsonSchemas } = await import(join(root, 'dist', 'cli', 'schemas.js'))
  const dir = join(root, 'schemas')
  mkdirSync(dir, { recursive: true })
  const written = []
  for (const [file, text] of schemaFiles(jsonSchemas())) {
    const path = join(dir, file)
    if (existsSync(path) && readFileSync(path, 'utf8') === text) continue
    writeFileSync(path, text)
    written.push(file)
  }
  console.log(written.length > 0 ? `schemas: wrote ${written.join(', ')}` : 'schemas: up to date')
}
