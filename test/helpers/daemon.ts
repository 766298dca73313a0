// An `mr` daemon for a test: started, kept in the caller's list (to kill at the end), and its
// address read from its first stdout line (`<word> <address>`: listening, balancer, serving).
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { MR, ROOT } from './run-mr.ts';

export async function daemon(args: string[], started: ChildProcess[]): Promise<{ child: ChildProcess; address: string }> {
  const child = spawn(process.execPath, [MR, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
  started.push(child);
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`mr ${args[0]} exited with ${code}`)));
  });
  return { child, address: line.split(' ')[1] };
}
