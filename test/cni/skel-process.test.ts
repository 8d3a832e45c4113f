// runPlugin as a real process: fd 0 read fully (also in slow chunks), result
// on stdout without a newline, exit codes, logs on stderr.
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const plugin = fileURLToPath(new URL('./fixtures/echo-plugin.ts', import.meta.url))

function runProcess (env: Record<string, string>, chunks: string[], gapMs = 0): Promise<{ code: number | null, out: string, err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, plugin], { env: { PATH: process.env.PATH, ...env }, stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''; let err = ''
    child.stdout.on('data', d => { out += d })
    child.stderr.on('data', d => { err += d })
    child.on('error', reject)
    child.on('close', code => resolve({ code, out, err }))
    let i = 0
    const next = (): void => {
      if (i === chunks.length) { child.stdin.end(); return }
      child.stdin.write(chunks[i++]!)
      setTimeout(next, gapMs)
    }
    next()
  })
}

const ENV = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/var/run/netns/none', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' }

t.test('ADD with stdin arriving in slow chunks', async t => {
  const conf = JSON.stringify({ cniVersion: '0.4.0', name: 'net', pad: 'x'.repeat(100000) })
  const r = await runProcess(ENV, [conf.slice(0, 10), conf.slice(10, 70000), conf.slice(70000)], 100)
  t.equal(r.code, 0, r.err)
  t.notOk(r.out.endsWith('\n'), 'no trailing newline')
  t.same(JSON.parse(r.out), {
    cniVersion: '0.4.0',
    interfaces: [{ name: `len${conf.length}` }],
    ips: [{ version: '4', interface: 0, address: '10.0.0.2/24' }],
    dns: {}
  })
  t.match(r.err, /echo\[ADD c1\] warn: stdin \d+ bytes/)
})

t.test('errors: JSON on stdout, exit 1', async t => {
  const r = await runProcess({ ...ENV, CNI_COMMAND: 'DEL' }, [JSON.stringify({ cniVersion: '1.0.0', name: 'net', failDel: true })])
  t.equal(r.code, 1)
  t.same(JSON.parse(r.out), { cniVersion: '1.0.0', code: 11, msg: 'try again', details: 'fixture' })
  const v = await runProcess({ CNI_COMMAND: 'VERSION' }, [])
  t.equal(v.code, 0)
  t.equal(v.out, '{"cniVersion":"1.1.0","supportedVersions":["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}\n')
  const about = await runProcess({}, [])
  t.equal(about.code, 0)
  t.equal(about.out, '')
  t.match(about.err, /^CNI echo plugin \(tscni\)\nCNI protocol versions supported: 0\.1\.0, /)
})

const hasPython = spawnSync('python3', ['-c', 'pass']).status === 0
t.test('stdin on a non-blocking pipe (EAGAIN) is read whole', { skip: hasPython ? false : 'python3 needed to hand over a non-blocking pipe' }, async t => {
  const conf = JSON.stringify({ cniVersion: '1.0.0', name: 'net', pad: 'y'.repeat(5000) })
  // python makes the pipe, sets O_NONBLOCK on the child's end and writes in two slow chunks
  const py = [
    'import os, subprocess, sys, time, json',
    'r, w = os.pipe()',
    'os.set_blocking(r, False)',
    'p = subprocess.Popen(sys.argv[1:], stdin=r, stdout=subprocess.PIPE, stderr=subprocess.PIPE)',
    'os.close(r)',
    'data = os.environ["CONF"].encode()',
    'os.write(w, data[:100])',
    'time.sleep(2.5)', // longer than the plugin's start-up: it meets an empty pipe
    'os.write(w, data[100:])',
    'os.close(w)',
    'out, err = p.communicate()',
    'print(json.dumps({"code": p.returncode, "out": out.decode(), "err": err.decode()}))'
  ].join('\n')
  const r = spawnSync('python3', ['-c', py, process.execPath, ...process.execArgv, plugin], {
    env: { PATH: process.env.PATH, CONF: conf, ...ENV }, encoding: 'utf8', timeout: 60000
  })
  t.equal(r.status, 0, r.stderr)
  const res = JSON.parse(r.stdout)
  t.equal(res.code, 0, res.err + res.out)
  t.same(JSON.parse(res.out).interfaces, [{ name: `len${conf.length}` }], 'every byte read')
})
