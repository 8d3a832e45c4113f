// Both nf_tables features list rules, then delete some by handle in a batch.
// Another plugin run (a DEL, a GC) may delete one of them in between: the
// batch then fails with ENOENT and changes nothing, so list and try again.
import { isErrno } from '../../netlink/errors.js'

const ATTEMPTS = 3

export async function retryOnVanishedRule<T> (fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn()
    } catch (err) {
      if (attempt >= ATTEMPTS || !isErrno(err, 'ENOENT')) throw err
    }
  }
}
