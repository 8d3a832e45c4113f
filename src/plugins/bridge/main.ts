// The bridge executable: what a container runtime execs (bin/bridge).
// When the IPAM plugin found on CNI_PATH is our own host-local (its launcher
// carries the line `# tscni-plugin: host-local`), it runs in this process
// instead of a second Node start. No top-level await: bundled as CommonJS.
import { exitNow } from '../../cni/exit.js'
import { runPlugin, pluginHandler } from '../../cni/skel.js'
import { registerInProcessPlugin } from '../../cni/invoke.js'
import { hostLocal } from '../host-local/index.js'
import { bridge } from './index.js'

registerInProcessPlugin('host-local', pluginHandler(hostLocal))
void runPlugin(bridge, { exitWith: exitNow })
