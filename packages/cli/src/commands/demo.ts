import type { Command } from 'commander'

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('watch each protocol detect a dead peer (coming)')
    .action(() => {})
}
