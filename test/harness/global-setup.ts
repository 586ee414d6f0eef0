/**
 * vitest globalSetup of the tcp and integration projects. Before the run it looks for what an earlier run left behind
 * (removes it, and hands the list to the hygiene self-test, which reports it); after the run it fails the whole run
 * if any `ka-` namespace, harness-started process or its listener remains — after removing them, so the next run
 * starts clean either way.
 */
import type { TestProject } from 'vitest/node'
import { findLeftovers } from './leftovers.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** What the previous runs left behind, found (and removed) before this run started. */
    harnessLeftoversAtStart: string[]
  }
}

export default function setup(project: TestProject): () => void {
  const atStart = findLeftovers({ remove: true }).map((l) => l.description)
  if (atStart.length > 0) {
    console.warn(`[harness] removed leftovers of an earlier run:\n  ${atStart.join('\n  ')}`)
  }
  project.provide('harnessLeftoversAtStart', atStart)

  return () => {
    const left = findLeftovers({ root: process.pid, remove: true }).map((l) => l.description)
    if (left.length > 0) {
      throw new Error(`[harness] the test run left behind (now removed):\n  ${left.join('\n  ')}`)
    }
  }
}
