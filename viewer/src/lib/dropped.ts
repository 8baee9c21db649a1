/** What was dropped on the page: a zip file, or the files of a folder keyed by relative path. */
export type Dropped =
  | { kind: "zip"; file: File }
  | { kind: "folder"; name: string; files: Map<string, File> }
  | null;

function readEntries(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

async function walk(dir: FileSystemDirectoryEntry, prefix: string, out: Map<string, File>): Promise<void> {
  const reader = dir.createReader();
  // readEntries returns a batch at a time; an empty batch means the end.
  for (let batch = await readEntries(reader); batch.length > 0; batch = await readEntries(reader)) {
    for (const entry of batch) {
      if (entry.isDirectory) await walk(entry as FileSystemDirectoryEntry, `${prefix}${entry.name}/`, out);
      else out.set(`${prefix}${entry.name}`, await fileOf(entry as FileSystemFileEntry));
    }
  }
}

/** Read a drop: the first folder (walked recursively) or the first file; null when nothing usable. */
export async function readDrop(data: DataTransfer): Promise<Dropped> {
  const entries = [...data.items].map((item) => item.webkitGetAsEntry?.()).filter((e) => e != null);
  const folder = entries.find((e) => e.isDirectory) as FileSystemDirectoryEntry | undefined;
  if (folder) {
    const files = new Map<string, File>();
    await walk(folder, "", files);
    return { kind: "folder", name: folder.name, files };
  }
  const file = data.files[0];
  return file ? { kind: "zip", file } : null;
}
