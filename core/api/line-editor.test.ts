/**
 * The pty line editor: keystrokes in, lines, interrupts, EOF and the echo out. The echo is checked
 * by replaying it on a one-line model terminal, so what the user sees is what is asserted.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LineEditor, type LineEditorEvent } from './line-editor.ts';

/** A one-line terminal: printable text overwrites at the cursor, \b moves left, ESC[K clears to the end, CR LF starts a new line. */
function screen(output: string): { lines: string[]; cursor: number } {
  const lines: string[] = [];
  let row: string[] = [];
  let cursor = 0;
  for (let i = 0; i < output.length; i++) {
    const ch = output[i]!;
    if (output.startsWith('\u001b[K', i)) {
      row = row.slice(0, cursor);
      i += 2;
    } else if (ch === '\b') cursor = Math.max(0, cursor - 1);
    else if (ch === '\r') cursor = 0;
    else if (ch === '\n') {
      lines.push(row.join(''));
      row = [];
      cursor = 0;
    } else {
      row[cursor++] = ch;
    }
  }
  lines.push(row.join(''));
  return { lines, cursor };
}

function type(editor: LineEditor, ...keys: string[]): { output: string; events: LineEditorEvent[] } {
  let output = '';
  const events: LineEditorEvent[] = [];
  for (const k of keys) {
    const r = editor.feed(k);
    output += r.output;
    events.push(...r.events);
  }
  return { output, events };
}

describe('LineEditor', () => {
  it('typing, Enter (CR, LF or CR LF once), and the echo shows each line', () => {
    const e = new LineEditor();
    const r = type(e, 'ls -l', '\r\n', 'pwd\n', 'who\r');
    expect(r.events).toEqual([{ type: 'line', line: 'ls -l' }, { type: 'line', line: 'pwd' }, { type: 'line', line: 'who' }]);
    expect(screen(r.output).lines).toEqual(['ls -l', 'pwd', 'who', '']);
  });

  it('backspace, cursor keys, insert in the middle, Delete, Home/End, ^A ^E ^U ^K ^W', () => {
    const e = new LineEditor();
    const r = type(e, 'helo', '\u001b[D', 'l', '\u001b[C', '!', '\u007f', ' world', '\u0017', 'there', '\u0001', '\u001b[3~', 'H', '\u0005', '\r');
    expect(r.events).toEqual([{ type: 'line', line: 'Hello there' }]);
    expect(screen(r.output).lines[0]).toBe('Hello there');
    const k = type(new LineEditor(), 'abcdef', '\u001b[D', '\u001b[D', '\u000b', 'X', '\u001b[H', '\u0015', 'fresh', '\n');
    expect(k.events).toEqual([{ type: 'line', line: 'fresh' }]);
    expect(screen(k.output).lines[0]).toBe('fresh');
  });

  it('^C abandons the line with an interrupt; ^D is EOF on an empty line and delete elsewhere', () => {
    const e = new LineEditor();
    const r = type(e, 'half typed', '\u0003', 'ab', '\u001b[D', '\u0004', '\r', '\u0004');
    expect(r.events).toEqual([{ type: 'interrupt' }, { type: 'line', line: 'a' }, { type: 'eof' }]);
    expect(screen(r.output).lines).toEqual(['half typed^C', 'a', '']);
  });

  it('Up and Down walk the history and come back to the draft; history is bounded', () => {
    const e = new LineEditor({ historySize: 2 });
    type(e, 'one\r', 'two\r', 'three\r');
    const r = type(e, 'dra', '\u001b[A', '\u001b[A', '\u001b[A', '\r');
    expect(r.events).toEqual([{ type: 'line', line: 'two' }]);
    const back = type(e, 'x', '\u001b[A', '\u001b[B', '\r');
    expect(back.events).toEqual([{ type: 'line', line: 'x' }]);
    expect(screen(back.output).lines[0]).toBe('x');
  });

  it('an escape sequence split across packets still works; unknown ones are dropped', () => {
    const e = new LineEditor();
    const r = type(e, 'ab', '\u001b', '[', 'D', 'X', '\u001b[Z', '\r');
    expect(r.events).toEqual([{ type: 'line', line: 'aXb' }]);
  });

  it('without echo nothing is written back but lines still come; character mode passes keys through; long lines are capped', () => {
    const quiet = new LineEditor({ echo: false });
    expect(type(quiet, 'secret\r')).toEqual({ output: '', events: [{ type: 'line', line: 'secret' }] });
    const raw = new LineEditor();
    raw.setCharacterMode(true);
    expect(type(raw, 'q', '\u001b[A')).toEqual({ output: '', events: [{ type: 'key', text: 'q' }, { type: 'key', text: '\u001b[A' }] });
    const capped = new LineEditor({ maxLineLength: 3 });
    expect(type(capped, 'abcdef\r').events).toEqual([{ type: 'line', line: 'abc' }]);
  });

  it('property: whatever is typed, the screen shows the line being edited and the cursor where the editor has it', () => {
    const keys = fc.constantFrom('a', 'b', ' ', 'é', '\u007f', '\u0001', '\u0005', '\u0015', '\u000b', '\u0017', '\u001b[C', '\u001b[D', '\u001b[3~', '\u001b[A', '\u001b[B', '\r');
    fc.assert(
      fc.property(fc.array(keys, { maxLength: 60 }), (typed) => {
        const e = new LineEditor();
        const { output, events } = type(e, ...typed);
        const shown = screen(output);
        const lines = events.filter((x): x is Extract<LineEditorEvent, { type: 'line' }> => x.type === 'line').map((x) => x.line);
        expect(shown.lines.slice(0, lines.length)).toEqual(lines);
        expect(shown.lines[lines.length]).toBe(e.current);
        expect(shown.cursor).toBe(e.cursorPosition);
      }),
      { numRuns: 300 },
    );
  });
});
