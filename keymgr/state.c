// SPDX-License-Identifier: MIT
/* keymgr state: key files, unlock keys, the sealed state file, load, save, rekey. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/atomic.h"
#include "common/token.h"
#include "common/why.h"
#include "state.h"
#include "state_int.h"

#define MAGIC "VXSEC-ST"
#define MAGIC_LEN 8
#define VERSION_OFF 8
#define FLAGS_OFF 10
#define KEY_ID_OFF 12
#define KEY_ID_LEN STATE_KEY_ID_LEN
#define NONCE_OFF 20
#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define BODY_LEN_OFF 44
#define HDR_LEN 48
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES
#define FLAG_AUTOLOCK 0x0001u
#define B32_KEY_LEN 52

/* ---- files and keys ---- */

static int path_of(char *out, const char *dir, const char *name)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);

	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		err = -errno;
	close(fd);
	return err;
}

/*
 * The whole of path, a file of exactly len bytes (else -EINVAL); -ESPIPE
 * if it is not a regular file (opened without blocking: a FIFO would
 * hang the start).
 */
static int read_exact(const char *path, uint8_t *buf, size_t len)
{
	struct stat st;
	size_t off = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st))
		err = -errno;
	else if (!S_ISREG(st.st_mode))
		err = -ESPIPE;
	else if ((size_t)st.st_size != len)
		err = -EINVAL;
	while (!err && off < len) {
		n = read(fd, buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			err = n < 0 ? -errno : -EIO;
		else
			off += (size_t)n;
	}
	close(fd);
	return err;
}

static int key_file_load(const char *dir, const char *name,
			 uint8_t key[STATE_KEY_LEN])
{
	char path[PATH_MAX];
	int err = path_of(path, dir, name);

	if (!err)
		err = read_exact(path, key, STATE_KEY_LEN);
	if (err)
		sodium_memzero(key, STATE_KEY_LEN);
	return err;
}

static int key_file_write(const char *dir, const char *name,
			  const uint8_t key[STATE_KEY_LEN])
{
	char path[PATH_MAX];
	int err = path_of(path, dir, name);

	return err ? err : atomic_write(path, key, STATE_KEY_LEN, 0600);
}

int state_key_create(const char *dir, uint8_t key[STATE_KEY_LEN])
{
	int err;

	randombytes_buf(key, STATE_KEY_LEN);
	err = key_file_write(dir, STATE_KEY_FILE, key);
	if (err)
		sodium_memzero(key, STATE_KEY_LEN);
	return err;
}

int state_key_load(const char *dir, uint8_t key[STATE_KEY_LEN])
{
	return key_file_load(dir, STATE_KEY_FILE, key);
}

int state_unlock_format(const uint8_t key[STATE_KEY_LEN], char *out, size_t len)
{
	char b[B32_KEY_LEN + 1];
	int n;

	if (len < STATE_UNLOCK_TEXT_LEN + 1)
		return -ENOSPC;
	base32_encode(key, STATE_KEY_LEN, b, sizeof(b));
	n = snprintf(out, len, "%s%s", STATE_UNLOCK_PREFIX, b);
	sodium_memzero(b, sizeof(b));
	return n == (int)STATE_UNLOCK_TEXT_LEN ? 0 : -EINVAL;
}

/* The base32 alphabet, either case (RFC 4648, as common/token.c). */
#define B32_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567abcdefghijklmnopqrstuvwxyz"

/* Why text (n bytes, no white space at either end) is no unlock key. */
static int unlock_refuse(const char *text, size_t n, struct why *why)
{
	size_t plen = strlen(STATE_UNLOCK_PREFIX), bad;

	if (!n)
		return why_fail(why, -EINVAL,
				"no unlock key: the text is empty");
	if (n < plen || strncasecmp(text, STATE_UNLOCK_PREFIX, plen) != 0)
		return why_fail(why, -EINVAL,
				"not an unlock key: it does not begin with "
				"%s%s",
				STATE_UNLOCK_PREFIX,
				strncasecmp(text, "VXSEC-1-", 8) == 0
					? " (this is a join token)"
					: "");
	if (n != STATE_UNLOCK_TEXT_LEN)
		return why_fail(why, -EINVAL,
				"not an unlock key: %s must be followed by %d "
				"base32 characters, not %zu",
				STATE_UNLOCK_PREFIX, B32_KEY_LEN, n - plen);
	bad = strspn(text + plen, B32_CHARS);
	if (bad < B32_KEY_LEN)
		return why_fail(why, -EINVAL,
				"not an unlock key: character %zu after %s is "
				"not base32 (A-Z, 2-7)",
				bad + 1, STATE_UNLOCK_PREFIX);
	/* 52 characters hold 260 bits: the last 4 are zero in a key */
	return why_fail(why, -EINVAL,
			"not an unlock key: its last character cannot end a "
			"%d-byte key (a typo?)",
			STATE_KEY_LEN);
}

int state_unlock_parse(const char *text, uint8_t key[STATE_KEY_LEN],
		       struct why *why)
{
	size_t plen = strlen(STATE_UNLOCK_PREFIX), n;

	sodium_memzero(key, STATE_KEY_LEN);
	while (isspace((unsigned char)*text))
		text++;
	n = strlen(text);
	while (n && isspace((unsigned char)text[n - 1]))
		n--;
	if (n != STATE_UNLOCK_TEXT_LEN ||
	    strncasecmp(text, STATE_UNLOCK_PREFIX, plen) != 0 ||
	    base32_decode(text + plen, B32_KEY_LEN, key, STATE_KEY_LEN) !=
		    STATE_KEY_LEN) {
		sodium_memzero(key, STATE_KEY_LEN);
		return unlock_refuse(text, n, why);
	}
	return 0;
}

/* ---- the sealed file ---- */

struct sealed {
	uint8_t *file; /* the whole file, ciphertext: not secret */
	size_t len;
	uint16_t flags;
	uint32_t body_len;
	uint8_t *body; /* decrypted, from sodium_malloc */
	bool from_new; /* opened with state.key.new */
};

static void sealed_free(struct sealed *s)
{
	free(s->file);
	sodium_free(s->body);
}

static void be_put(uint8_t *p, uint32_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint32_t be_get(const uint8_t *p, size_t n)
{
	uint32_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

void state_key_id(const uint8_t key[STATE_KEY_LEN], uint8_t id[KEY_ID_LEN])
{
	uint8_t h[crypto_generichash_BYTES];

	crypto_generichash(h, sizeof(h), key, STATE_KEY_LEN, NULL, 0);
	memcpy(id, h, KEY_ID_LEN);
}

static bool key_fits(const struct sealed *s, const uint8_t *key)
{
	uint8_t id[KEY_ID_LEN];

	state_key_id(key, id);
	return memcmp(id, s->file + KEY_ID_OFF, KEY_ID_LEN) == 0;
}

static int seal_write(const char *path, const uint8_t key[STATE_KEY_LEN],
		      bool autolock, const uint8_t *body, size_t len)
{
	size_t flen = HDR_LEN + len + TAG_LEN;
	uint8_t *f;
	int err;

	if (len > STATE_FILE_MAX - HDR_LEN - TAG_LEN)
		return -EFBIG;
	f = malloc(flen);
	if (!f)
		return -ENOMEM;
	memcpy(f, MAGIC, MAGIC_LEN);
	be_put(f + VERSION_OFF, STATE_VERSION, 2);
	be_put(f + FLAGS_OFF, autolock ? FLAG_AUTOLOCK : 0, 2);
	state_key_id(key, f + KEY_ID_OFF);
	randombytes_buf(f + NONCE_OFF, NONCE_LEN);
	be_put(f + BODY_LEN_OFF, (uint32_t)len, 4);
	crypto_aead_xchacha20poly1305_ietf_encrypt(f + HDR_LEN, NULL, body, len,
						   f, HDR_LEN, NULL,
						   f + NONCE_OFF, key);
	err = atomic_write(path, f, flen, 0600);
	free(f);
	return err;
}

static int sealed_read(struct sealed *s, const char *path, struct why *why)
{
	struct stat st;
	size_t magic; /* bytes of magic a short file can hold */
	int err = stat(path, &st) ? -errno : 0;

	if (err == -ENOENT)
		return why_fail(why, err, "no state file %s yet", path);
	if (!err && !S_ISREG(st.st_mode))
		return why_fail(why, -ESPIPE,
				"state file %s is not a regular file (a FIFO, "
				"device or directory): move it away and put "
				"the state file back",
				path);
	if (!err && st.st_size > STATE_FILE_MAX)
		err = -EFBIG;
	/* zeroed: no byte is left undefined whatever read_exact() returns */
	s->file = err ? NULL : calloc(1, (size_t)st.st_size + 1);
	if (!err && !s->file)
		err = -ENOMEM;
	if (!err) {
		s->len = (size_t)st.st_size;
		err = read_exact(path, s->file, s->len);
	}
	if (err)
		return why_fail(why, err, "state file %s: %s", path,
				strerror(-err));
	magic = s->len < MAGIC_LEN ? s->len : MAGIC_LEN;
	if (memcmp(s->file, MAGIC, magic) != 0)
		return why_fail(why, -EBADMSG, "%s is not a vxsec state file",
				path);
	if (s->len < HDR_LEN)
		return why_fail(
			why, -EBADMSG,
			"state file %s: truncated at byte %zu (the header "
			"is %d bytes)",
			path, s->len, HDR_LEN);
	return 0;
}

static int sealed_parse(struct sealed *s, const char *path, struct why *why)
{
	uint32_t version = be_get(s->file + VERSION_OFF, 2);
	size_t want;

	if (version == 1)
		return why_fail(why, -EPROTONOSUPPORT,
				"state file %s: format 1 (before protocol 2): "
				"its generation masters cannot serve protocol "
				"2 agents; keep it for a rollback, start this "
				"leader on a new state directory, then let the "
				"nodes join again",
				path);
	if (version != STATE_VERSION)
		return why_fail(why, -EPROTONOSUPPORT,
				"state file %s: format version %u, this build "
				"reads %d",
				path, version, STATE_VERSION);
	s->flags = (uint16_t)be_get(s->file + FLAGS_OFF, 2);
	if (s->flags & ~FLAG_AUTOLOCK)
		return why_fail(why, -EBADMSG,
				"state file %s: unknown flags 0x%x", path,
				s->flags);
	s->body_len = be_get(s->file + BODY_LEN_OFF, 4);
	want = HDR_LEN + (size_t)s->body_len + TAG_LEN;
	if (s->len < want)
		return why_fail(why, -EBADMSG,
				"state file %s: truncated at byte %zu of %zu",
				path, s->len, want);
	if (s->len > want)
		return why_fail(
			why, -EBADMSG,
			"state file %s: %zu bytes of trailing data after "
			"byte %zu",
			path, s->len - want, want);
	return 0;
}

/* The key files, read when no key is given: state.key, then state.key.new. */
static int key_files_try(const char *dir, const char *path, struct sealed *s,
			 uint8_t key[STATE_KEY_LEN], struct why *why)
{
	int err = key_file_load(dir, STATE_KEY_FILE, key), err_new;

	if (!err && key_fits(s, key))
		return 0;
	err_new = key_file_load(dir, STATE_KEY_NEW_FILE, key);
	if (!err_new && key_fits(s, key)) {
		s->from_new = true;
		return 0;
	}
	sodium_memzero(key, STATE_KEY_LEN);
	if (err == -ENOENT)
		return why_fail(why, -ENOKEY,
				"state file %s: its key %s/" STATE_KEY_FILE
				" is missing%s",
				path, dir,
				err_new == -ENOENT
					? ""
					: " (" STATE_KEY_NEW_FILE
					  " does not open it either)");
	if (err)
		return why_fail(why, err, "state key %s/" STATE_KEY_FILE ": %s",
				dir,
				err == -EINVAL	 ? "not a 32-byte key file"
				: err == -ESPIPE ? "not a regular file (a "
						   "FIFO, device or "
						   "directory)"
						 : strerror(-err));
	return why_fail(why, -EKEYREJECTED,
			"state file %s: not encrypted with %s/" STATE_KEY_FILE
			" (another key, or a damaged header)",
			path, dir);
}

static int key_choose(const char *dir, const char *path, struct sealed *s,
		      const uint8_t *given, const char *given_name,
		      uint8_t key[STATE_KEY_LEN], struct why *why)
{
	int err;

	if (!given) {
		/* a key file that fits an "autolocked" file: a modified flag */
		err = key_files_try(dir, path, s, key, why);
		if (err && (s->flags & FLAG_AUTOLOCK))
			return why_fail(
				why, -ENOKEY,
				"state file %s is autolocked: start with "
				"its unlock key",
				path);
		return err;
	}
	memcpy(key, given, STATE_KEY_LEN);
	if (key_fits(s, key))
		return 0;
	return why_fail(why, -EKEYREJECTED,
			"state file %s: not encrypted with %s%s", path,
			given_name,
			s->flags & FLAG_AUTOLOCK
				? " (or a damaged header)"
				: " (it is not autolocked: it opens with "
				  "its " STATE_KEY_FILE ")");
}

/* Reads, checks and decrypts; writes nothing. */
static int sealed_open(const char *dir, const char *path, struct sealed *s,
		       const uint8_t *given, const char *given_name,
		       uint8_t key[STATE_KEY_LEN], struct why *why)
{
	int err = sealed_read(s, path, why);

	if (!err)
		err = sealed_parse(s, path, why);
	if (!err)
		err = key_choose(dir, path, s, given, given_name, key, why);
	if (err)
		return err;
	s->body = sodium_malloc((size_t)s->body_len + 1);
	if (!s->body)
		return why_fail(why, -ENOMEM, "state file %s: out of memory",
				path);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    s->body, NULL, NULL, s->file + HDR_LEN,
		    (size_t)s->body_len + TAG_LEN, s->file, HDR_LEN,
		    s->file + NONCE_OFF, key))
		return why_fail(
			why, -EBADMSG,
			"state file %s: authentication failed (the file "
			"was modified or damaged)",
			path);
	return 0;
}

static bool removed(const char *path)
{
	return !unlink(path);
}

/*
 * After the state was written or opened: finish an interrupted key change
 * (state.key.new becomes state.key), or drop key files nothing needs.
 */
static int keys_settle(const char *dir, bool autolock, bool from_new,
		       struct why *why)
{
	char kp[PATH_MAX], np[PATH_MAX];
	bool changed = false;
	int err = path_of(kp, dir, STATE_KEY_FILE)
			  ?: path_of(np, dir, STATE_KEY_NEW_FILE);

	if (!err && from_new) {
		changed = true;
		if (rename(np, kp))
			err = -errno;
	} else if (!err) {
		changed = autolock && removed(kp);
		changed |= removed(np);
	}
	if (!err && changed)
		err = sync_dir(dir);
	if (err)
		return why_fail(why, err,
				"state keys in %s: cannot complete the key "
				"change: %s",
				dir, strerror(-err));
	return 0;
}

int state_load(const char *dir, const uint8_t *unlock_key,
	       uint8_t key[STATE_KEY_LEN], struct registry *reg,
	       struct rotation *rot, uint64_t *revision, struct state_extra *x,
	       bool *autolock, struct why *why)
{
	char path[PATH_MAX];
	struct why what = { "" };
	struct sealed s = { 0 };
	int err = path_of(path, dir, STATE_FILE);

	if (err)
		return why_fail(why, err, "state directory %s: %s", dir,
				strerror(-err));
	err = sealed_open(dir, path, &s, unlock_key, "the unlock key", key,
			  why);
	if (!err)
		err = keys_settle(dir, s.flags & FLAG_AUTOLOCK, s.from_new,
				  why);
	if (!err) {
		err = state_body_decode(s.body, s.body_len, reg, rot, revision,
					x, &what);
		if (err)
			why_set(why, "state file %s: %s", path, what.msg);
	}
	if (!err)
		*autolock = s.flags & FLAG_AUTOLOCK;
	else
		sodium_memzero(key, STATE_KEY_LEN);
	sealed_free(&s);
	return err;
}

int state_save(const char *dir, const uint8_t key[STATE_KEY_LEN], bool autolock,
	       struct registry *reg, const struct rotation *rot,
	       uint64_t revision, const struct state_extra *x)
{
	char path[PATH_MAX];
	uint8_t *body;
	size_t len;
	int err = path_of(path, dir, STATE_FILE);

	if (!err)
		err = state_body_encode(reg, rot, revision, x, &body, &len);
	if (err)
		return err;
	err = seal_write(path, key, autolock, body, len);
	sodium_free(body);
	return err;
}

int state_rekey(const char *dir, const uint8_t old_key[STATE_KEY_LEN],
		const uint8_t new_key[STATE_KEY_LEN], bool autolock,
		struct why *why)
{
	char path[PATH_MAX];
	uint8_t key[STATE_KEY_LEN];
	struct sealed s = { 0 };
	int err = path_of(path, dir, STATE_FILE);

	if (err)
		return why_fail(why, err, "state directory %s: %s", dir,
				strerror(-err));
	err = sealed_open(dir, path, &s, old_key, "the current key", key, why);
	sodium_memzero(key, sizeof(key));
	if (!err && !autolock) {
		err = key_file_write(dir, STATE_KEY_NEW_FILE, new_key);
		if (err)
			why_set(why, "state key %s/%s: %s", dir,
				STATE_KEY_NEW_FILE, strerror(-err));
	}
	if (!err) {
		err = seal_write(path, new_key, autolock, s.body, s.body_len);
		if (err)
			why_set(why, "state file %s: %s", path, strerror(-err));
	}
	if (!err)
		err = keys_settle(dir, autolock, !autolock, why);
	sealed_free(&s);
	return err;
}
