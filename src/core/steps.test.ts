import { describe, expect, it } from 'vitest';
import { releasingOnFailure, runSteps, type Step } from './steps.js';

describe('releasingOnFailure', () => {
  it('releases once when a step fails, keeping the failure and stopping there', async () => {
    const ran: string[] = [];
    let released = 0;
    const steps: Step<object>[] = [
      { title: 'one', run: () => void ran.push('one') },
      {
        title: 'two',
        run: () => {
          throw new Error('two broke');
        },
      },
      { title: 'three', run: () => void ran.push('three') },
    ];
    const guarded = releasingOnFailure(steps, async () => {
      released += 1;
    });
    await expect(runSteps(guarded, {})).rejects.toThrow('two broke');
    expect(ran).toEqual(['one']);
    expect(released).toBe(1);
  });

  it('keeps titles and skips, and releases nothing when every step succeeds', async () => {
    let released = 0;
    const skipped: string[] = [];
    const guarded = releasingOnFailure<object>(
      [
        { title: 'runs', run: () => undefined },
        { title: 'skipped', skip: () => 'not this time', run: () => undefined },
      ],
      async () => {
        released += 1;
      },
    );
    await runSteps(guarded, {}, (event) => {
      if (event.kind === 'skip') skipped.push(`${event.title}: ${event.reason}`);
    });
    expect(guarded.map((step) => step.title)).toEqual(['runs', 'skipped']);
    expect(skipped).toEqual(['skipped: not this time']);
    expect(released).toBe(0);
  });
});
