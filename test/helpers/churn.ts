// ADD/DEL churn with kill -9 (issue 11): many cycles on a few worker "pods"
// at once; some ADDs are killed with SIGKILL at a random moment (as a
// runtime's deadline does), most of those get their DEL, the others' pods
// just disappear (no DEL; GC cleans up at the end). Runner-agnostic: the
// exec path is `execRunner` below; the agent path plugs in its own
// ChurnRunner (same three calls).
import { spawn } from 'node:child_process'
import { NetNamespace } from '../../src/netlink/netns.js'
import { createNamespace } from './netns.js'
import { BIN_DIR, OUR_BRIDGE, TEST_AGENT_SOCKET } from './bridge.js'

export interface AddOutcome {
  /** Exit code; null when killed. */
  code: number | null
  killed: boolean
  /** The ADD's addresses when it succeeded. */
  ips: string[]
  /** Its run time in ms (for the kill timing). */
  ms: number
  stdout: string
}

export interface ChurnRunner {
  /** ADD of containerId in the pod at netns; with killAfterMs, SIGKILL the plugin after that long (if still running). */
  add: (o: { containerId: string, netns: string, killAfterMs?: number }) => Promise<AddOutcome>
  del: (o: { containerId: string, netns: string }) => Promise<{ code: number, stdout: string }>
  gc: (valid: Array<{ containerID: string, ifname: string }>) => Promise<{ code: number, stdout: string }>
  /** Resolves when nothing the runner started is still running (orphaned delegated plugins included). */
  settle: () => Promise<void>
}

export interface ChurnOptions {
  cycles: number
  /** Workers (pods) running cycles at once. */
  concurrency: number
  /** Every Nth ADD is killed. */
  killEvery: number
  /** Every Mth killed ADD gets no DEL: its pod is deleted instead (GC's job). */
  orphanEvery: number
  runner: ChurnRunner
  /** Name prefix for the pod namespaces. */
  prefix: string
}

export interface ChurnStats {
  cycles: number
  adds: number
  killed: number
  /** Killed ADDs that had finished anyway before the signal. */
  killedTooLate: number
  orphaned: number
  failedAdds: string[]
  failedDels: string[]
  /** An address held by two live attachments at once. */
  duplicates: string[]
  ms: number
  /** Mean wall time of a completed ADD and of a DEL, ms. */
  meanAddMs: number
  meanDelMs: number
}

/** Runs the churn; leaves the pods deleted. The caller runs GC/asserts afterwards. */
export async function runChurn (o: ChurnOptions): Promise<ChurnStats> {
  const stats: ChurnStats = { cycles: 0, adds: 0, killed: 0, killedTooLate: 0, orphaned: 0, failedAdds: [], failedDels: [], duplicates: [], ms: 0, meanAddMs: 0, meanDelMs: 0 }
  let addMs = 0
  let addN = 0
  let delMs = 0
  let delN = 0
  const started = Date.now()
  const live = new Map<string, string>()
  let next = 0
  let typical = 150
  let podCounter = 0
  const newPod = (): string => {
    const name = `${o.prefix}-${process.pid}-${++podCounter}`
    createNamespace(name).close()
    return name
  }
  const worker = async (): Promise<void> => {
    let pod = newPod()
    try {
      for (;;) {
        const n = next++
        if (n >= o.cycles) return
        const id = `churn${n}`
        const netns = `/var/run/netns/${pod}`
        const kill = n % o.killEvery === o.killEvery - 1
        // Anywhere from the start to a bit past a typical ADD's end.
        const killAfterMs = kill ? Math.floor(((n * 7919) % 100) / 100 * typical * 1.3) : undefined
        const add = await o.runner.add({ containerId: id, netns, ...(killAfterMs !== undefined ? { killAfterMs } : {}) })
        stats.adds++
        if (add.killed) stats.killed++
        else if (kill) stats.killedTooLate++
        if (!add.killed && add.code === 0) {
          typical = Math.round(typical * 0.8 + add.ms * 0.2)
          addMs += add.ms
          addN++
          for (const ip of add.ips) {
            const holder = live.get(ip)
            if (holder !== undefined) stats.duplicates.push(`${ip}: ${holder} and ${id}`)
            live.set(ip, id)
          }
        } else if (!add.killed) stats.failedAdds.push(`${id}: ${add.stdout.slice(0, 300)}`)
        if (add.killed && stats.killed % o.orphanEvery === 0) {
          // The pod goes away without a DEL.
          stats.orphaned++
          NetNamespace.delete(pod)
          pod = newPod()
        } else {
          for (const ip of add.ips) if (live.get(ip) === id) live.delete(ip)
          const d0 = Date.now()
          const del = await o.runner.del({ containerId: id, netns })
          delMs += Date.now() - d0
          delN++
          if (del.code !== 0) stats.failedDels.push(`${id}: ${del.stdout.slice(0, 300)}`)
        }
        stats.cycles++
      }
    } finally {
      NetNamespace.delete(pod)
    }
  }
  await Promise.all(Array.from({ length: o.concurrency }, async () => { await worker() }))
  await o.runner.settle()
  stats.ms = Date.now() - started
  stats.meanAddMs = addN === 0 ? 0 : Math.round(addMs / addN)
  stats.meanDelMs = delN === 0 ? 0 : Math.round(delMs / delN)
  return stats
}

/**
 * The exec path: `ip netns exec <node> bin/bridge` per call, as a runtime
 * execs plugins (through the agent at `agentSocket` when given: a kill then
 * hits the client, and the agent finishes the work). Each plugin runs in its own process group; a kill hits only
 * the plugin (as containerd's does), and settle() waits for its orphaned
 * IPAM child.
 */
export function execRunner (o: { node: string, config: unknown, stateDir: string, ifname?: string, agentSocket?: string }): ChurnRunner {
  const agentSocket = o.agentSocket ?? TEST_AGENT_SOCKET
  const groups = new Set<number>()
  const exec = async (env: Record<string, string>, killAfterMs?: number): Promise<{ code: number | null, killed: boolean, stdout: string, ms: number }> => {
    const t0 = Date.now()
    return await new Promise(resolve => {
      const child = spawn('ip', ['netns', 'exec', o.node, OUR_BRIDGE], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', CNI_PATH: BIN_DIR, TSCNI_AGENT_SOCKET: agentSocket, TSCNI_STATE_DIR: o.stateDir, ...env },
        stdio: ['pipe', 'pipe', 'ignore'],
        detached: true
      })
      groups.add(child.pid!)
      let stdout = ''
      child.stdout.on('data', d => { stdout += String(d) })
      const timer = killAfterMs === undefined ? undefined : setTimeout(() => { child.kill('SIGKILL') }, killAfterMs)
      child.on('close', (code, signal) => {
        if (timer !== undefined) clearTimeout(timer)
        resolve({ code, killed: signal === 'SIGKILL', stdout, ms: Date.now() - t0 })
      })
      child.stdin.end(JSON.stringify(o.config))
    })
  }
  const ifname = o.ifname ?? 'eth0'
  return {
    add: async ({ containerId, netns, killAfterMs }) => {
      const r = await exec({ CNI_COMMAND: 'ADD', CNI_CONTAINERID: containerId, CNI_NETNS: netns, CNI_IFNAME: ifname }, killAfterMs)
      let ips: string[] = []
      if (r.code === 0) {
        try { ips = (JSON.parse(r.stdout).ips as Array<{ address: string }>).map(i => i.address.split('/')[0]!) } catch {}
      }
      return { ...r, ips }
    },
    del: async ({ containerId, netns }) => {
      const r = await exec({ CNI_COMMAND: 'DEL', CNI_CONTAINERID: containerId, CNI_NETNS: netns, CNI_IFNAME: ifname })
      return { code: r.code ?? -1, stdout: r.stdout }
    },
    gc: async valid => {
      const config = { ...(o.config as object), 'cni.dev/valid-attachments': valid }
      const t0 = await new Promise<{ code: number, stdout: string }>(resolve => {
        const child = spawn('ip', ['netns', 'exec', o.node, OUR_BRIDGE], {
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', CNI_PATH: BIN_DIR, TSCNI_AGENT_SOCKET: agentSocket, TSCNI_STATE_DIR: o.stateDir, CNI_COMMAND: 'GC' },
          stdio: ['pipe', 'pipe', 'ignore']
        })
        let stdout = ''
        child.stdout.on('data', d => { stdout += String(d) })
        child.on('close', code => { resolve({ code: code ?? -1, stdout }) })
        child.stdin.end(JSON.stringify(config))
      })
      return t0
    },
    settle: async () => {
      // A killed plugin's IPAM child runs on in the plugin's process group: wait until every group is empty.
      for (;;) {
        for (const g of [...groups]) {
          try { process.kill(-g, 0) } catch { groups.delete(g) }
        }
        if (groups.size === 0) return
        await new Promise(resolve => setTimeout(resolve, 50))
      }
    }
  }
}
