// `bin/tscni <command> …`: the operator's tool. Each command is a module of
// its own, loaded only when named, so `tscni agent status` does not load the
// plugins and `tscni validate` does not open a socket.
//
// A command module exports `run(args: string[]): Promise<number>` (the exit
// code) and `usage` (one line).

interface CommandModule { run: (args: string[]) => Promise<number>, usage: string }

const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  agent: async () => await import('./agent.js'),
  validate: async () => await import('./validate.js'),
  gc: async () => await import('./gc.js'),
  reconcile: async () => await import('./reconcile.js')
}

async function main (argv: string[]): Promise<number> {
  const [name, ...args] = argv
  const load = name === undefined ? undefined : COMMANDS[name]
  if (load === undefined) {
    const lines = await Promise.all(Object.keys(COMMANDS).map(async n => `  tscni ${(await COMMANDS[n]!()).usage}`))
    process.stderr.write(`${name === undefined || name === '--help' || name === '-h' ? '' : `tscni: unknown command ${JSON.stringify(name)}\n`}usage:\n${lines.join('\n')}\n`)
    return name === '--help' || name === '-h' ? 0 : 2
  }
  return await (await load()).run(args)
}

main(process.argv.slice(2)).then(code => { process.exitCode = code }, (err: unknown) => {
  process.stderr.write(`tscni: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
})
