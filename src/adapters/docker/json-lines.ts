/**
 * Splits a byte stream of newline-separated JSON documents (the engine's event and pull
 * streams). A document may arrive split over several chunks, or several in one chunk.
 */
export class JsonLineSplitter {
  private buffered = '';
  private readonly decoder = new TextDecoder('utf-8');

  constructor(
    private readonly onValue: (value: unknown) => void,
    private readonly onBadLine: (line: string, error: Error) => void,
  ) {}

  push(chunk: Uint8Array | string): void {
    this.buffered += typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, newline);
      this.buffered = this.buffered.slice(newline + 1);
      this.emit(line);
    }
  }

  /** Emits a final document that was not newline-terminated. */
  end(): void {
    const rest = this.buffered + this.decoder.decode();
    this.buffered = '';
    this.emit(rest);
  }

  private emit(line: string): void {
    const trimmed = line.trim();
    if (trimmed === '') return;
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      this.onBadLine(trimmed, error instanceof Error ? error : new Error(String(error)));
      return;
    }
    this.onValue(value);
  }
}
