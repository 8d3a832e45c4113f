// The loopback executable (bin/loopback). No top-level await: bundled as CommonJS.
import { runPlugin } from '../../cni/skel.js'
import { loopback } from './index.js'

void runPlugin(loopback)
