/**
 * Where a question goes (ssh(1) ENVIRONMENT: SSH_ASKPASS, SSH_ASKPASS_REQUIRE, DISPLAY) and how a
 * raw-mode line is edited — the runtime-neutral halves of both adapters' terminal prompters.
 */
import { describe, expect, it } from 'vitest';
import { askpassAnswer, choosePromptChannel, RawLineReader, unanswerableNote } from './prompter.ts';

const envOf = (vars: Record<string, string>) => (name: string) => vars[name];

describe('choosePromptChannel', () => {
  it('follows ssh: force/prefer use askpass, DISPLAY without a terminal uses it, never forbids it, a terminal is used otherwise', () => {
    expect(choosePromptChannel(envOf({}), true)).toEqual({ kind: 'tty' });
    expect(choosePromptChannel(envOf({}), false)).toBeNull();
    expect(choosePromptChannel(envOf({ SSH_ASKPASS: '/bin/ask' }), true)).toEqual({ kind: 'tty' });
    expect(choosePromptChannel(envOf({ SSH_ASKPASS: '/bin/ask' }), false)).toBeNull();
    expect(choosePromptChannel(envOf({ SSH_ASKPASS: '/bin/ask', DISPLAY: ':0' }), false)).toEqual({ kind: 'askpass', program: '/bin/ask' });
    expect(choosePromptChannel(envOf({ SSH_ASKPASS: '/bin/ask', SSH_ASKPASS_REQUIRE: 'prefer' }), true)).toEqual({ kind: 'askpass', program: '/bin/ask' });
    expect(choosePromptChannel(envOf({ SSH_ASKPASS: '/bin/ask', SSH_ASKPASS_REQUIRE: 'FORCE' }), false)).toEqual({ kind: 'askpass', program: '/bin/ask' });
    expect(choosePromptChannel(envOf({ SSH_ASKPASS: '/bin/ask', SSH_ASKPASS_REQUIRE: 'never', DISPLAY: ':0' }), false)).toBeNull();
    expect(choosePromptChannel(envOf({ SSH_ASKPASS_REQUIRE: 'force' }), true)).toBeNull();
  });

  it('the note says how to supply the answer', () => {
    expect(unanswerableNote('the password for a@b', envOf({}))).toMatch(/cannot ask for the password for a@b: stdin is not a terminal.*SSH_ASKPASS/);
    expect(unanswerableNote('x', envOf({ SSH_ASKPASS_REQUIRE: 'force' }))).toMatch(/SSH_ASKPASS_REQUIRE=force but SSH_ASKPASS is not set/);
  });

  it('askpass output: the first line, without its end', () => {
    expect(askpassAnswer('sesame\nrest\n')).toBe('sesame');
    expect(askpassAnswer('a\r\n')).toBe('a');
    expect(askpassAnswer('')).toBe('');
  });
});

describe('RawLineReader', () => {
  it('Enter ends the line; backspace and ^U edit; nothing is echoed for a secret', () => {
    const line = new RawLineReader(false);
    expect(line.feed('sesx\u007fam')).toBe('');
    expect(line.done).toBeNull();
    expect(line.feed('e\rignored')).toBe('');
    expect(line.done).toEqual({ answer: 'sesame', interrupted: false });
    const cleared = new RawLineReader(false);
    cleared.feed('wrong\u0015right\n');
    expect(cleared.done?.answer).toBe('right');
  });

  it('echoing prompts write back what is typed and erase on backspace; control characters are dropped', () => {
    const line = new RawLineReader(true);
    expect(line.feed('ab\u007f\u0001c')).toBe('ab\b \bc');
    expect(line.feed('\u0015')).toBe('\b \b\b \b');
    expect(line.feed('é\n')).toBe('é');
    expect(line.done?.answer).toBe('é');
  });

  it('^D on an empty line cancels (ignored otherwise); ^C cancels and asks for the interrupt', () => {
    const eof = new RawLineReader(false);
    eof.feed('\u0004');
    expect(eof.done).toEqual({ answer: null, interrupted: false });
    const typed = new RawLineReader(false);
    typed.feed('x\u0004y\r');
    expect(typed.done?.answer).toBe('xy');
    const interrupt = new RawLineReader(false);
    interrupt.feed('abc\u0003def\r');
    expect(interrupt.done).toEqual({ answer: null, interrupted: true });
  });
});
