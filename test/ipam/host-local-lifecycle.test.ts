// bin/host-local exec'd as a runtime execs it: reclaim after reboot (the
// reboot simulated by TSCNI_BOOT_ID), temp files of killed writers swept,
// and a STATUS that answers 50 only when an ADD could not work (dataDir not
// writable, lock stuck; a full range only when the config opts in).
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { OFFICIAL, OURS, haveOfficial, reservations, run, skipWithoutBuild, snapshot, tempDir } from '../helpers/ipam-exec.js'

const skip = skipWithoutBuild()
const isRoot = process.getuid?.() === 0

function conf (dataDir: string, ipam: Record<string, unknown> = {}, name = 'mynet'): Record<string, unknown> {
  return { cniVersion: '1.1.0', name, ipam: { type: 'host-local', dataDir, ranges: [[{ subnet: '10.1.2.0/24' }]], ...ipam } }
}

const boot = (id: string): Record<string, string> => ({ TSCNI_BOOT_ID: id })
const addr = (r: { json: any }): string => r.json?.ips?.[0]?.address

t.test('reclaim after reboot: the first ADD of a new boot releases what the earlier boot held', { skip }, async t => {
  const dataDir = tempDir(t)
  const c = conf(dataDir)
  t.equal(addr(run(OURS, { command: 'ADD', containerId: 'a', env: boot('boot-A') }, c)), '10.1.2.2/24')
  t.equal(addr(run(OURS, { command: 'ADD', containerId: 'b', env: boot('boot-A') }, c)), '10.1.2.3/24')
  t.equal(readFileSync(join(dataDir, '.tscni', 'mynet.boot'), 'utf8'), 'boot-A\n', 'boot id recorded beside the index')
  t.same(readdirSync(join(dataDir, 'mynet')).sort(), ['10.1.2.2', '10.1.2.3', 'last_reserved_ip.0', 'lock'], 'nothing of ours inside <net>/')

  // DEL, CHECK and STATUS in the new boot release nothing.
  t.equal(run(OURS, { command: 'DEL', containerId: 'zzz', env: boot('boot-B') }, c).status, 0)
  t.equal(run(OURS, { command: 'STATUS', env: boot('boot-B') }, c).status, 0)
  t.equal(Object.keys(reservations(dataDir, 'mynet')).length, 2, 'DEL and STATUS reclaim nothing')

  const after = run(OURS, { command: 'ADD', containerId: 'c', env: boot('boot-B') }, c)
  t.equal(after.status, 0, after.stdout)
  t.equal(addr(after), '10.1.2.4/24', 'round robin goes on after the last reserved address')
  t.same(reservations(dataDir, 'mynet'), { '10.1.2.4': 'c\r\neth0' }, 'the earlier boot\'s reservations are gone')
  t.equal(readFileSync(join(dataDir, '.tscni', 'mynet.boot'), 'utf8'), 'boot-B\n')
  t.equal(readFileSync(join(dataDir, 'mynet', 'last_reserved_ip.0'), 'latin1'), '10.1.2.4')

  // The same boot again: nothing more is released.
  run(OURS, { command: 'ADD', containerId: 'd', env: boot('boot-B') }, c)
  t.same(Object.keys(reservations(dataDir, 'mynet')).sort(), ['10.1.2.4', '10.1.2.5'])
})

t.test('reclaim after reboot on GC, and "reclaimAfterReboot": false', { skip }, async t => {
  const dataDir = tempDir(t)
  const c = conf(dataDir)
  run(OURS, { command: 'ADD', containerId: 'a', env: boot('A') }, c)
  run(OURS, { command: 'ADD', containerId: 'keep', env: boot('A') }, c)
  const gc = run(OURS, { command: 'GC', containerId: '', ifname: '', netns: '', env: boot('B') },
    { ...c, 'cni.dev/valid-attachments': [{ containerID: 'keep', ifname: 'eth0' }] })
  t.equal(gc.status, 0, gc.stdout)
  t.same(reservations(dataDir, 'mynet'), {}, 'GC of a new boot releases the earlier boot\'s reservations, valid or not (no namespace survives a reboot)')

  const off = conf(dataDir, { reclaimAfterReboot: false }, 'offnet')
  run(OURS, { command: 'ADD', containerId: 'x', env: boot('A') }, off)
  const y = run(OURS, { command: 'ADD', containerId: 'y', env: boot('B') }, off)
  t.equal(y.status, 0, y.stdout)
  t.same(reservations(dataDir, 'offnet'), { '10.1.2.2': 'x\r\neth0', '10.1.2.3': 'y\r\neth0' }, 'turned off: kept')
  t.equal(readFileSync(join(dataDir, '.tscni', 'offnet.boot'), 'utf8'), 'B\n', 'the boot is still recorded')
  // Turned on later within the same boot: this boot's reservations stay.
  run(OURS, { command: 'ADD', containerId: 'z', env: boot('B') }, conf(dataDir, {}, 'offnet'))
  t.equal(Object.keys(reservations(dataDir, 'offnet')).length, 3, 'turning it on later releases nothing of the current boot')

  const bad = run(OURS, { command: 'ADD', containerId: 'q' }, conf(dataDir, { reclaimAfterReboot: 'no' }, 'badnet'))
  t.equal(bad.json?.code, 7)
  t.match(bad.json?.details, /reclaimAfterReboot/)
})

t.test('reclaim after reboot with the Go plugin sharing the dataDir', { skip: skip || (haveOfficial() ? false : `${OFFICIAL} is missing`) }, async t => {
  const dataDir = tempDir(t)
  // Debian's Go plugin speaks up to 1.0.0.
  const c = { ...conf(dataDir), cniVersion: '1.0.0' }
  run(OURS, { command: 'ADD', containerId: 'old', env: boot('A') }, c)
  // After the reboot, the Go plugin reserves first: it keeps no index and no boot record.
  const go = run(OFFICIAL, { command: 'ADD', containerId: 'go-new' }, c)
  t.equal(go.status, 0, go.stdout)
  const ours = run(OURS, { command: 'ADD', containerId: 'ours-new', env: boot('B') }, c)
  t.equal(ours.status, 0, ours.stdout)
  const held = reservations(dataDir, 'mynet')
  t.notOk(Object.values(held).includes('old\r\neth0'), 'the reservation of the earlier boot is released')
  t.ok(Object.values(held).includes('go-new\r\neth0'), 'the Go plugin\'s reservation made after our last operation is kept (it may be this boot\'s)')
  t.ok(Object.values(held).includes('ours-new\r\neth0'))
  // The Go plugin still reads and releases the store.
  t.equal(run(OFFICIAL, { command: 'CHECK', containerId: 'ours-new' }, { ...c, prevResult: ours.json }).status, 0, 'Go CHECK finds our reservation')
  t.equal(run(OFFICIAL, { command: 'DEL', containerId: 'go-new' }, c).status, 0)
  t.equal(run(OFFICIAL, { command: 'DEL', containerId: 'ours-new' }, c).status, 0)
  t.same(reservations(dataDir, 'mynet'), {})
})

t.test('temp files of a killed writer are swept by the next operation, also when the index is trusted', { skip }, async t => {
  const dataDir = tempDir(t)
  const c = conf(dataDir)
  run(OURS, { command: 'ADD', containerId: 'a' }, c)
  // What a writer killed between writing and linking its temp file leaves: <net>/ untouched, so the index stays trusted.
  for (const f of ['mynet.4242.1.tmp', 'mynet.4242.2.tmp', 'mynet.77.9.tmp']) writeFileSync(join(dataDir, '.tscni', f), 'a\r\neth0')
  writeFileSync(join(dataDir, '.tscni', 'other.4242.1.tmp'), 'x')
  t.equal(run(OURS, { command: 'DEL', containerId: 'nobody' }, c).status, 0)
  t.same(readdirSync(join(dataDir, '.tscni')).sort(), ['mynet.boot', 'mynet.index', 'other.4242.1.tmp'], 'this network\'s temps swept, another network\'s left to its own operations')
})

t.test('a killed ADD leaves nothing but the lock and last_reserved_ip after the next operation', { skip }, async t => {
  const dataDir = tempDir(t)
  const c = conf(dataDir)
  // Kill ADDs at staggered moments (some before, some during, some after their write).
  // The kill moments scale with how long an ADD takes right now (the machine may be busy).
  const started = Date.now()
  run(OURS, { command: 'ADD', containerId: 'probe' }, c)
  let typical = Date.now() - started
  run(OURS, { command: 'DEL', containerId: 'probe' }, c)
  let killed = 0
  let completed = 0
  for (let i = 0; i < 40; i++) {
    await new Promise<void>(resolve => {
      const t0 = Date.now()
      const child = spawn(OURS, [], { cwd: '/', env: { PATH: '/usr/bin:/bin', CNI_COMMAND: 'ADD', CNI_CONTAINERID: `k${i}`, CNI_NETNS: '/x', CNI_IFNAME: 'eth0', CNI_PATH: '/x' }, stdio: ['pipe', 'ignore', 'ignore'] })
      child.stdin.end(JSON.stringify(c))
      // Every 4th runs to its end; the others are killed somewhere between 10% and 100% of a typical run.
      const timer = i % 4 === 3 ? undefined : setTimeout(() => { child.kill('SIGKILL') }, Math.round(typical * (0.1 + (i % 10) / 11)))
      child.on('close', (code, signal) => {
        clearTimeout(timer)
        if (signal === 'SIGKILL') killed++
        else if (code === 0) { completed++; typical = Date.now() - t0 }
        resolve()
      })
    })
    run(OURS, { command: 'DEL', containerId: `k${i}` }, c)
  }
  t.comment(`${killed} ADDs killed, ${completed} completed`)
  t.ok(killed > 0 && completed > 0, 'some ADDs were killed, some completed')
  t.same(readdirSync(join(dataDir, 'mynet')).filter(f => f !== 'lock' && !f.startsWith('last_reserved_ip.')), [], 'no reservation left')
  t.same(readdirSync(join(dataDir, '.tscni')).filter(f => f.endsWith('.tmp')), [], 'no temp file left')
})

t.test('STATUS: 50 only when an ADD could not work', { skip }, async t => {
  const dataDir = tempDir(t)
  const tiny = conf(dataDir, { ranges: [[{ subnet: '10.9.0.0/30' }]] }, 'tiny')
  t.equal(run(OURS, { command: 'STATUS' }, tiny).status, 0, 'nothing exists yet: ready')
  t.notOk(existsSync(join(dataDir, 'tiny')), 'STATUS creates nothing')
  run(OURS, { command: 'ADD', containerId: 'a', env: boot('A') }, tiny)
  const full = run(OURS, { command: 'STATUS', env: boot('A') }, tiny)
  t.equal(full.status, 0, 'a full range is not "network not ready" by default')
  const optIn = { ...tiny, ipam: { ...(tiny.ipam as object), statusFailsWhenFull: true } }
  const failing = run(OURS, { command: 'STATUS', env: boot('A') }, optIn)
  t.equal(failing.status, 1)
  t.same(failing.json, { cniVersion: '1.1.0', code: 50, msg: 'no IP addresses available in range set: 10.9.0.1-10.9.0.2', details: 'range set 0 (ipam.ranges[0]) is exhausted' })
  t.equal(run(OURS, { command: 'STATUS', env: boot('B') }, optIn).status, 0, 'after a reboot the old reservation will be reclaimed: not counted')
  t.same(Object.keys(reservations(dataDir, 'tiny')), ['10.9.0.2'], 'STATUS releases nothing')

  // The lock held by someone else (a hung plugin).
  // Its own process group: flock passes the locked fd on to sleep, so both must go.
  const holder = spawn('flock', [join(dataDir, 'tiny', 'lock'), 'sleep', '30'], { stdio: 'ignore', detached: true })
  const release = (): void => { try { process.kill(-holder.pid!, 'SIGKILL') } catch {} }
  t.teardown(release)
  for (let i = 0; i < 100 && spawnSync('flock', ['-n', join(dataDir, 'tiny', 'lock'), 'true']).status === 0; i++) await new Promise(resolve => setTimeout(resolve, 20))
  const stuck = run(OURS, { command: 'STATUS' }, tiny)
  t.equal(stuck.json?.code, 50, 'lock not free within the deadline')
  t.match(stuck.json?.msg, /^host-local: the store's lock .*tiny\/lock was not free within 1000 ms$/)
  release()
  await new Promise(resolve => holder.on('close', resolve))
  t.equal(run(OURS, { command: 'STATUS' }, tiny).status, 0, 'free again: ready')

  // A dataDir under a regular file.
  writeFileSync(join(dataDir, 'file'), '')
  const notDir = run(OURS, { command: 'STATUS' }, conf(join(dataDir, 'file', 'sub')))
  t.same(notDir.json, { cniVersion: '1.1.0', code: 50, msg: `host-local: the dataDir cannot be written: ${join(dataDir, 'file')} is not a directory`, details: 'ipam.dataDir' })
})

t.test('STATUS: 50 on a read-only dataDir (private mount namespace)', { skip: skip || (isRoot ? false : 'needs root: mounts in a private mount namespace') }, async t => {
  const dataDir = tempDir(t)
  const c = conf(dataDir)
  run(OURS, { command: 'ADD', containerId: 'a' }, c)
  const before = snapshot(dataDir)
  const env = { PATH: '/usr/bin:/bin', CNI_COMMAND: 'STATUS', CNI_PATH: '/x' }
  // The read-only bind mount exists only in the unshared mount namespace of this one command.
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-ec', `mount --bind "$1" "$1"; mount -o remount,bind,ro "$1"; exec "$2"`, 'sh', dataDir, OURS],
    { env, input: JSON.stringify(c), encoding: 'utf8' })
  const json = JSON.parse(r.stdout)
  t.equal(r.status, 1, r.stderr)
  t.equal(json.code, 50)
  t.match(json.msg, /^host-local: the dataDir cannot be written: EROFS: read-only file system, access /)
  t.equal(json.details, 'ipam.dataDir')
  t.same(snapshot(dataDir), before, 'nothing changed')
  t.equal(run(OURS, { command: 'STATUS' }, c).status, 0, 'writable again outside that mount namespace')
})
