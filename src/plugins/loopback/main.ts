// The loopback executable (bin/loopback). No top-level await: bundled as CommonJS.
import { exitNow } from '../../cni/exit.js'
import { runPlugin } from '../../cni/skel.js'
import { loopback } from './index.js'

void runPlugin(loopback, { exitWith: exitNow })
