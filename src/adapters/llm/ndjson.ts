/**
 * Newline-delimited JSON lines from decoded text chunks (Ollama streaming).
 * Network chunks may split or merge lines, so input is buffered and split on `\n`;
 * blank lines are skipped and a last line without its newline still counts.
 * Lines are returned as text: the caller parses them and reports bad JSON.
 */
export async function* readNdjson(chunks: AsyncIterable<string>): AsyncGenerator<string> {
  let buffer = '';
  for await (const chunk of chunks) {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line !== '') yield line;
    }
  }
  const last = buffer.trim();
  if (last !== '') yield last;
}
