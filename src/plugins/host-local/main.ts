// The host-local executable: what a container runtime execs (bin/host-local).
// No top-level await: the plugin is bundled as CommonJS.
import { exitNow } from '../../cni/exit.js'
import { runPlugin } from '../../cni/skel.js'
import { hostLocal } from './index.js'

void runPlugin(hostLocal, { exitWith: exitNow })
