// The peer of bench/monitor-scale.bench.mjs, in its own process: answers each `PING n` line with
// `PONG n` at once; after a `FREEZE` line, that connection never answers again (a frozen peer whose TCP
// stack still acknowledges). SIGSTOP/SIGCONT from the bench stop the whole peer. Prints its port.
import net from 'node:net'

const server = net.createServer((socket) => {
  let frozen = false
  let buffered = ''
  socket.setNoDelay(true)
  socket.on('error', () => {})
  socket.on('data', (chunk) => {
    if (frozen) return
    buffered += chunk
    let out = ''
    let i = buffered.indexOf('\n')
    while (i >= 0) {
      const line = buffered.slice(0, i)
      buffered = buffered.slice(i + 1)
      if (line === 'FREEZE') {
        frozen = true
        return
      }
      if (line.startsWith('PING')) out += `PONG${line.slice(4)}\n`
      i = buffered.indexOf('\n')
    }
    if (out !== '') socket.write(out)
  })
})
server.maxConnections = 30_000
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => console.log(server.address().port))
process.stdin.on('end', () => process.exit(0))
process.stdin.resume()
