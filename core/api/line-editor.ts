/**
 * A line editor for pty sessions served in-process. A client with a pty sends keystrokes one by
 * one (its terminal is in raw mode) and expects the server to echo them, as a shell's readline
 * would. This turns keystrokes into lines and the echo that shows them:
 *
 * - printable text is inserted at the cursor and echoed; Enter (CR, LF or CR LF) ends the line and
 *   echoes CR LF (RFC 4254 section 8 terminals in raw mode need both);
 * - Backspace (DEL or ^H) and Delete (ESC [ 3 ~) remove a character; ^U kills the line, ^K to its
 *   end, ^W the word before the cursor; ^A / Home and ^E / End move to the ends; Left / Right move;
 * - Up / Down walk the history of earlier lines (bounded);
 * - ^C abandons the line (echoes `^C` and CR LF) and reports an interrupt; ^D on an empty line
 *   reports the end of input, elsewhere it deletes the character under the cursor;
 * - character mode hands every keystroke through unedited (what a full-screen program wants), and
 *   echo can be turned off (passwords).
 *
 * Pure: bytes in, text to echo and events out.
 */

export type LineEditorEvent = { readonly type: 'line'; readonly line: string } | { readonly type: 'interrupt' } | { readonly type: 'eof' } | { readonly type: 'key'; readonly text: string };

export interface LineEditorOptions {
  /** Echo what is typed (default true). */
  readonly echo?: boolean;
  /** Lines kept for Up/Down (default 100; 0: no history). */
  readonly historySize?: number;
  /** Longest line accepted; keys past it are ignored (default 4096). */
  readonly maxLineLength?: number;
}

const ESC = '\u001b';
const CLEAR_TO_END = `${ESC}[K`;

export class LineEditor {
  private line: string[] = [];
  private cursor = 0;
  private readonly history: string[] = [];
  /** Index into history while walking it (history.length: the line being typed). */
  private walk = 0;
  private draft: string[] = [];
  private pending = '';
  private lastWasCr = false;
  private characterMode = false;
  echo: boolean;
  private readonly historySize: number;
  private readonly maxLineLength: number;

  constructor(options: LineEditorOptions = {}) {
    this.echo = options.echo ?? true;
    this.historySize = options.historySize ?? 100;
    this.maxLineLength = options.maxLineLength ?? 4096;
  }

  /** Character mode: every keystroke comes out as a `key` event, nothing is echoed or edited. */
  setCharacterMode(on: boolean): void {
    this.characterMode = on;
  }

  get inCharacterMode(): boolean {
    return this.characterMode;
  }

  /** The line typed so far (not yet ended). */
  get current(): string {
    return this.line.join('');
  }

  /** Where the cursor is in {@link current} (0: before the first character). */
  get cursorPosition(): number {
    return this.cursor;
  }

  /** Keystrokes from the client: what to write back, and what happened. */
  feed(text: string): { readonly output: string; readonly events: LineEditorEvent[] } {
    const events: LineEditorEvent[] = [];
    if (this.characterMode) {
      if (text !== '') events.push({ type: 'key', text });
      return { output: '', events };
    }
    let output = '';
    let input = this.pending + text;
    this.pending = '';
    while (input.length > 0) {
      if (input[0] === ESC) {
        const sequence = /^\u001b(?:\[[0-9;]*[A-Za-z~]|O[A-Za-z])/.exec(input);
        if (!sequence) {
          // An escape sequence cut between two packets: wait for the rest (a lone ESC is dropped once more comes).
          if (/^\u001b(?:\[[0-9;]*|O)?$/.test(input)) {
            this.pending = input;
            break;
          }
          input = input.slice(1);
          continue;
        }
        output += this.escape(sequence[0]);
        input = input.slice(sequence[0].length);
        continue;
      }
      const ch = String.fromCodePoint(input.codePointAt(0)!);
      input = input.slice(ch.length);
      const wasCr = this.lastWasCr;
      this.lastWasCr = ch === '\r';
      if (ch === '\n' && wasCr) continue;
      output += this.key(ch, events);
    }
    return { output, events };
  }

  private key(ch: string, events: LineEditorEvent[]): string {
    switch (ch) {
      case '\r':
      case '\n': {
        const line = this.current;
        if (line !== '' && this.historySize > 0 && this.history[this.history.length - 1] !== line) {
          this.history.push(line);
          if (this.history.length > this.historySize) this.history.shift();
        }
        this.reset();
        events.push({ type: 'line', line });
        return this.echo ? '\r\n' : '';
      }
      case '\u0003':
        this.reset();
        events.push({ type: 'interrupt' });
        return this.echo ? '^C\r\n' : '';
      case '\u0004':
        if (this.line.length === 0) {
          events.push({ type: 'eof' });
          return '';
        }
        return this.deleteAt(this.cursor);
      case '\u007f':
      case '\b':
        return this.cursor > 0 ? this.deleteAt(this.cursor - 1, true) : '';
      case '\u0001':
        return this.moveTo(0);
      case '\u0005':
        return this.moveTo(this.line.length);
      case '\u0015':
        return this.replace([], 0);
      case '\u000b':
        return this.replace(this.line.slice(0, this.cursor), this.cursor);
      case '\u0017': {
        let start = this.cursor;
        while (start > 0 && this.line[start - 1] === ' ') start--;
        while (start > 0 && this.line[start - 1] !== ' ') start--;
        return this.replace([...this.line.slice(0, start), ...this.line.slice(this.cursor)], start);
      }
      default:
        if (ch < ' ') return '';
        if (this.line.length >= this.maxLineLength) return '';
        return this.replace([...this.line.slice(0, this.cursor), ch, ...this.line.slice(this.cursor)], this.cursor + 1);
    }
  }

  private escape(sequence: string): string {
    const final = sequence[sequence.length - 1];
    if (sequence === `${ESC}[3~`) return this.deleteAt(this.cursor);
    if (sequence === `${ESC}[1~` || sequence === `${ESC}[7~`) return this.moveTo(0);
    if (sequence === `${ESC}[4~` || sequence === `${ESC}[8~`) return this.moveTo(this.line.length);
    switch (final) {
      case 'A':
        return this.historyStep(-1);
      case 'B':
        return this.historyStep(1);
      case 'C':
        return this.moveTo(Math.min(this.line.length, this.cursor + 1));
      case 'D':
        return this.moveTo(Math.max(0, this.cursor - 1));
      case 'H':
        return this.moveTo(0);
      case 'F':
        return this.moveTo(this.line.length);
      default:
        return '';
    }
  }

  private historyStep(direction: -1 | 1): string {
    const next = this.walk + direction;
    if (next < 0 || next > this.history.length) return '';
    if (this.walk === this.history.length) this.draft = this.line;
    this.walk = next;
    const chars = next === this.history.length ? this.draft : [...this.history[next]!];
    return this.replace(chars, chars.length, true);
  }

  private deleteAt(index: number, before = false): string {
    if (index < 0 || index >= this.line.length) return '';
    const chars = [...this.line.slice(0, index), ...this.line.slice(index + 1)];
    return this.replace(chars, before ? this.cursor - 1 : this.cursor);
  }

  private moveTo(position: number): string {
    if (position === this.cursor) return '';
    const out = position < this.cursor ? '\b'.repeat(this.cursor - position) : this.line.slice(this.cursor, position).join('');
    this.cursor = position;
    return this.echo ? out : '';
  }

  /** Replace the line and put the cursor at `cursor`; the echo redraws from the first change. */
  private replace(chars: string[], cursor: number, keepWalk = false): string {
    if (!keepWalk) this.walk = this.history.length;
    let same = 0;
    while (same < chars.length && same < this.line.length && chars[same] === this.line[same]) same++;
    const from = Math.min(same, this.cursor, cursor);
    let out = '\b'.repeat(this.cursor - from);
    const tail = chars.slice(from).join('');
    out += tail;
    if (chars.length < this.line.length) out += CLEAR_TO_END;
    out += '\b'.repeat(chars.length - cursor);
    this.line = chars;
    this.cursor = cursor;
    return this.echo ? out : '';
  }

  private reset(): void {
    this.line = [];
    this.cursor = 0;
    this.walk = this.history.length;
    this.draft = [];
  }
}
