// The one program that touches file contents inside an agent container: a small Perl script
// (perl-base is in every Debian image, the agent image included) exec'd as the agent user
// (uid 1000), never as root. Docker's archive API (putArchive / getArchive) extracts and packs as
// root and follows a symlink the agent swapped in after Armory's checks, so it is not used.
//
// The script walks the path from `/` one name at a time: each directory is opened with
// O_DIRECTORY|O_NOFOLLOW and entered with fchdir, so a symbolic link anywhere in the path (one
// the agent swapped in after Armory resolved it) is refused, never followed, and the final
// directory stays pinned by its inode whatever the agent renames meanwhile. The directory reached
// must lie on the same device as the root it started from (the agent's volumes), so a file can
// only land inside the agent's writable paths. Then:
//   write  <root> <path> <mode> <mtime> <size> <createDirs>: reads exactly <size> bytes from
//          stdin into a new temp file in that directory (O_CREAT|O_EXCL|O_NOFOLLOW), sets mode and
//          mtime on the open file, and renames it over the name (rename replaces a symlink at the
//          destination, it does not follow it); missing directories are made when createDirs is 1.
//   read   <root> <path> <maxBytes>: opens the name with O_NOFOLLOW, requires a regular file of
//          at most maxBytes and prints its bytes.
//   delete <root> <path> <recursive>: removes the name in the pinned directory (a link is removed,
//          not followed; a directory with `rm -rf` from inside it, which never follows links).
//   (write's 7th argument <exclusive>: 1 links the temp file to the name instead of renaming it,
//          so an existing name is never replaced: an atomic create-if-absent.)
//   append <root> <path> <offset> <size> <maxBytes>: appends exactly <size> bytes from stdin to
//          the existing regular file (O_NOFOLLOW|O_APPEND) whose size must be <offset> (chunked
//          uploads: a lost or repeated chunk is refused, never written twice) and stay <= maxBytes.
//   mkdir  <root> <path> <mode> <createDirs>: makes the directory (an existing name: "exists").
//   rename <root> <path> <toRoot> <toPath> <overwrite>: walks to the destination's directory and
//          keeps it open, then to the source's, and renames the name there into the pinned
//          destination directory (renameat2 with RENAME_NOREPLACE unless <overwrite>, so an
//          existing destination is never replaced by accident; the last names are not followed).
// Failures print one line `ARMORY\t<kind>\t<path>\t<detail>` to stderr and exit 3;
// fileOpError turns it into a 4xx DomainError.
import { DomainError } from "../../domain/errors";

export const FILE_OP_SCRIPT = String.raw`
use strict; use warnings;
use Fcntl qw(O_RDONLY O_WRONLY O_CREAT O_EXCL O_NOFOLLOW O_DIRECTORY O_NONBLOCK O_APPEND);
use POSIX ();
my ($op, $root, $path, @a) = @ARGV;
sub fail { my ($kind, $what, $detail) = @_; $detail = "" unless defined $detail; print STDERR "ARMORY\t$kind\t$what\t$detail\n"; exit 3; }
sub kind_of { my ($errno, $name) = @_;
  return "missing" if $errno == POSIX::ENOENT;
  return "symlink" if $errno == POSIX::ELOOP || -l $name;
  return "notdir" if $errno == POSIX::ENOTDIR;
  return "denied" if $errno == POSIX::EACCES || $errno == POSIX::EPERM;
  return "readonly" if $errno == POSIX::EROFS;
  return "isdir" if $errno == POSIX::EISDIR;
  return "nospace" if $errno == POSIX::ENOSPC || $errno == POSIX::EDQUOT;
  return "exists" if $errno == POSIX::EEXIST || $errno == POSIX::ENOTEMPTY;
  return "crossdev" if $errno == POSIX::EXDEV;
  return "invalid" if $errno == POSIX::EINVAL;
  return "io";
}
sub failed { my ($name, $what) = @_; my $errno = $! + 0; my $msg = "$!"; fail(kind_of($errno, $name), $what, $msg); }
umask 022;
my $shown = "";
sub enter { my ($c, $create) = @_;
  my $at = "$shown/$c";
  my $d;
  if (!sysopen($d, $c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)) {
    if ($create && $! == POSIX::ENOENT) {
      mkdir($c, 0755) or $! == POSIX::EEXIST or failed($c, $at);
      sysopen($d, $c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW) or failed($c, $at);
    } else { failed($c, $at); }
  }
  chdir($d) or failed($c, $at);
  close($d);
  $shown = $at;
}
# Walks from / to the directory holding the last name of $p (inside $r), entering each directory
# without following links; returns that last name. The process's cwd is then that directory.
sub walk { my ($r, $p, $create) = @_;
  my $prefix = $r eq "/" ? "/" : "$r/";
  substr($p, 0, length($prefix)) eq $prefix or fail("io", $p, "not inside $r");
  my @rootParts = grep { length } split m{/}, $r;
  my @rest = grep { length } split m{/}, substr($p, length($prefix));
  my $n = pop @rest;
  defined $n or fail("io", $p, "no name");
  for (@rootParts, @rest, $n) { fail("io", $p, "dot segment") if $_ eq "." || $_ eq ".."; }
  $shown = "";
  chdir("/") or failed("/", "/");
  enter($_, 0) for @rootParts;
  my $rootDev = (stat("."))[0];
  enter($_, $create) for @rest;
  (stat("."))[0] == $rootDev or fail("escaped", $shown, "left $r");
  return $n;
}
my ($toName, $toDir, $toTarget);
if ($op eq "rename") {
  $toName = walk($a[0], $a[1], 0);
  $toTarget = "$shown/$toName";
  sysopen($toDir, ".", O_RDONLY | O_DIRECTORY) or failed(".", $shown);
}
my $create = ($op eq "write" && $a[3]) || ($op eq "mkdir" && $a[1]);
my $name = walk($root, $path, $create);
my $target = "$shown/$name";
if ($op eq "write") {
  my ($mode, $mtime, $size) = @a;
  my $tmp = sprintf(".armory-write-%d-%08x.tmp", $$, int(rand(0xffffffff)));
  sysopen(my $fh, $tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600) or failed($tmp, $target);
  my $bail = sub { my $errno = $! + 0; my $msg = "$!"; unlink($tmp); fail(kind_of($errno, $tmp), $target, $msg); };
  binmode(STDIN); binmode($fh);
  my $left = $size;
  while ($left > 0) {
    my $n = sysread(STDIN, my $buf, $left > 262144 ? 262144 : $left);
    if (!$n) { unlink($tmp); fail("io", $target, "short input"); }
    my $off = 0;
    while ($off < $n) { my $w = syswrite($fh, $buf, $n - $off, $off); defined $w or $bail->(); $off += $w; }
    $left -= $n;
  }
  chmod($mode, $fh) or $bail->();
  utime($mtime, $mtime, $fh) or $bail->();
  close($fh) or $bail->();
  if ($a[4]) {
    # Exclusive: link() never replaces an existing name; the temp name goes either way.
    if (!link($tmp, $name)) { my $errno = $! + 0; my $msg = "$!"; unlink($tmp); fail(kind_of($errno, $name), $target, $msg); }
    unlink($tmp);
  } else {
    rename($tmp, $name) or $bail->();
  }
} elsif ($op eq "append") {
  my ($offset, $size, $max) = @a;
  sysopen(my $fh, $name, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK) or failed($name, $target);
  my @st = stat($fh);
  -f _ or fail("notfile", $target);
  $st[7] == $offset or fail("offset", $target, $st[7]);
  $offset + $size <= $max or fail("toolarge", $target, $offset + $size);
  binmode(STDIN); binmode($fh);
  my $left = $size;
  while ($left > 0) {
    my $n = sysread(STDIN, my $buf, $left > 262144 ? 262144 : $left);
    fail("io", $target, "short input") if !$n;
    my $off = 0;
    while ($off < $n) { my $w = syswrite($fh, $buf, $n - $off, $off); defined $w or failed($name, $target); $off += $w; }
    $left -= $n;
  }
  close($fh) or failed($name, $target);
} elsif ($op eq "mkdir") {
  my ($mode) = @a;
  mkdir($name, 0700) or failed($name, $target);
  sysopen(my $dh, $name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW) or failed($name, $target);
  chmod($mode & 0777, $dh) or failed($name, $target);
} elsif ($op eq "rename") {
  my $overwrite = $a[2];
  lstat($name) or failed($name, $target);
  my ($from, $to) = ($name, $toName);
  my $nr = { x86_64 => 316, aarch64 => 276 }->{(POSIX::uname())[4]};
  my $done = 0;
  if (!$overwrite && defined $nr) {
    # renameat2(AT_FDCWD, name, destination dir, toName, RENAME_NOREPLACE)
    if (syscall($nr, -100, $from, fileno($toDir), $to, 1) == 0) { $done = 1; }
    elsif ($! == POSIX::EEXIST) { fail("exists", $toTarget); }
    elsif ($! != POSIX::ENOSYS && $! != POSIX::EINVAL) { failed($name, $target); }
  }
  if (!$done) {
    # No renameat2 (another architecture or file system): the pinned directory through /proc.
    my $dest = "/proc/self/fd/" . fileno($toDir) . "/$toName";
    !$overwrite && lstat($dest) and fail("exists", $toTarget);
    if (!rename($name, $dest)) {
      fail("exists", $toTarget, "$!") if $! == POSIX::EEXIST || $! == POSIX::ENOTEMPTY;
      fail("invalid", $target, "$!") if $! == POSIX::EINVAL;
      failed($name, $target);
    }
  }
} elsif ($op eq "read") {
  my ($max) = @a;
  sysopen(my $fh, $name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK) or failed($name, $target);
  my @st = stat($fh);
  -f _ or fail("notfile", $target);
  $st[7] <= $max or fail("toolarge", $target, $st[7]);
  binmode($fh); binmode(STDOUT);
  my ($total, $buf) = (0, "");
  while (1) {
    my $n = sysread($fh, $buf, 262144);
    defined $n or failed($name, $target);
    last if $n == 0;
    $total += $n;
    fail("toolarge", $target, $total) if $total > $max;
    print STDOUT $buf or failed($name, $target);
  }
} elsif ($op eq "delete") {
  my ($recursive) = @a;
  lstat($name) or failed($name, $target);
  if (-d _) {
    $recursive or fail("isdir", $target);
    system("rm", "-rf", "--", $name) == 0 or fail(-e $name ? "denied" : "io", $target, "rm failed");
  } else {
    unlink($name) or failed($name, $target);
  }
} else { fail("io", $path, "unknown operation"); }
`;

export type FileOp = "write" | "read" | "delete" | "append" | "mkdir" | "rename";

const VERB: Record<FileOp, string> = { write: "write", read: "read", delete: "delete", append: "append to", mkdir: "create", rename: "rename" };

/** A failure the script reported (stderr line `ARMORY\t<kind>\t<path>\t<detail>`), or null. */
export function parseFileOpFailure(stderr: string): { kind: string; path: string; detail: string } | null {
  const line = stderr.split("\n").find((l) => l.startsWith("ARMORY\t"));
  if (!line) return null;
  const [, kind = "io", path = "", detail = ""] = line.split("\t");
  return { kind, path, detail };
}

/**
 * The 4xx (or 502) for a failed file operation. `requested` is the path the caller asked for,
 * `onTooLarge` the caller's size-limit error.
 */
export function fileOpError(op: FileOp, requested: string, stderr: string, exitCode: number, onTooLarge?: (size: number) => DomainError): DomainError {
  const f = parseFileOpFailure(stderr);
  const verb = VERB[op];
  if (!f && exitCode === 127) return new DomainError("PRECONDITION_FAILED", `Cannot ${verb} ${requested}: the agent's image has no perl (Armory's file operations need perl-base, part of every Debian-based image).`);
  if (!f) return new DomainError("ENGINE_ERROR", `Could not ${verb} ${requested} in the container (exit code ${exitCode}${stderr ? `: ${stderr.slice(0, 300)}` : ""}).`);
  const what = f.path || requested;
  switch (f.kind) {
    case "symlink":
      return new DomainError("CONFLICT", `Cannot ${verb} ${requested}: ${what} is a symbolic link now (it changed after Armory checked the path); Armory does not follow it. Nothing was changed.`);
    case "escaped":
      return new DomainError("CONFLICT", `Cannot ${verb} ${requested}: ${what} was moved out of the agent's files while Armory worked on it. Nothing was changed.`);
    case "missing":
      return new DomainError("NOT_FOUND", `${what} does not exist.`);
    case "notdir":
      return new DomainError("BAD_REQUEST", `Cannot ${verb} ${requested}: ${what} is not a directory.`);
    case "isdir":
      return new DomainError("BAD_REQUEST", `Cannot ${verb} ${requested}: ${what} is a directory.`);
    case "notfile":
      return new DomainError("BAD_REQUEST", `${what} is not a regular file.`);
    case "denied":
      return new DomainError("FORBIDDEN", `The agent user (uid 1000) may not ${verb} ${what}: permission denied.`);
    case "readonly":
      return new DomainError("BAD_REQUEST", `Cannot ${verb} ${what}: read-only file system.`);
    case "nospace":
      return new DomainError("PRECONDITION_FAILED", `Cannot ${verb} ${what}: no space left on the agent's volume.`);
    case "exists":
      return new DomainError("CONFLICT", `${what} already exists.`);
    case "offset":
      return new DomainError("CONFLICT", `Cannot ${verb} ${requested}: it is ${Number(f.detail).toLocaleString("en")} bytes now, not the size this chunk continues from (another upload or the agent changed it).`);
    case "crossdev":
      return new DomainError("BAD_REQUEST", `Cannot ${verb} ${requested}: the destination is on another volume (move it by copying instead).`);
    case "invalid":
      return new DomainError("BAD_REQUEST", `Cannot ${verb} ${requested}: a directory cannot be moved into itself.`);
    case "toolarge":
      return onTooLarge?.(Number(f.detail)) ?? new DomainError("PAYLOAD_TOO_LARGE", `${what} is too large.`);
    default:
      return new DomainError("ENGINE_ERROR", `Could not ${verb} ${what} in the container${f.detail ? `: ${f.detail}` : ""}.`);
  }
}
