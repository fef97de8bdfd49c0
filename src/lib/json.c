#include "lib/json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

json_object *json_member(json_object *obj, const char *key, json_type type)
{
	json_object *v;

	if (!obj || !json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, type))
		return NULL;
	return v;
}

const char *json_member_string(json_object *obj, const char *key)
{
	json_object *v = json_member(obj, key, json_type_string);

	return v ? json_object_get_string(v) : NULL;
}

int json_read_string(json_object *obj, const char *key, const char **ret)
{
	json_object *v = json_member(obj, key, json_type_string);

	if (!v)
		return -EINVAL;
	*ret = json_object_get_string(v);
	return 0;
}

int json_read_u64(json_object *obj, const char *key, uint64_t *ret)
{
	json_object *v = json_member(obj, key, json_type_int);

	/* json-c keeps an int64 or a uint64: a negative one reads as int64. */
	if (!v || json_object_get_int64(v) < 0)
		return -EINVAL;
	*ret = json_object_get_uint64(v);
	return 0;
}

int json_read_int(json_object *obj, const char *key, int *ret)
{
	json_object *v = json_member(obj, key, json_type_int);
	int64_t value;

	if (!v)
		return -EINVAL;
	value = json_object_get_int64(v);
	if (value < INT32_MIN || value > INT32_MAX)
		return -EINVAL;
	*ret = (int)value;
	return 0;
}

int json_read_bool(json_object *obj, const char *key, bool *ret)
{
	json_object *v = json_member(obj, key, json_type_boolean);

	if (!v)
		return -EINVAL;
	*ret = json_object_get_boolean(v);
	return 0;
}

static int invalid(char *why, size_t why_size, const char *reason)
{
	if (why && why_size)
		snprintf(why, why_size, "%s", reason);
	return -EINVAL;
}

/* Only white space in text[0..len): the text need not be NUL-terminated. */
static bool blank(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r' && text[i] != '\n')
			return false;
	return true;
}

int json_parse_object(const char *text, size_t len, json_object **ret_obj, char *why,
		      size_t why_size)
{
	json_tokener *tok;
	json_object *obj;
	size_t end;
	int err = 0;

	if (len > INT32_MAX)
		return invalid(why, why_size, "too long");
	tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	if (!tok)
		return -ENOMEM;
	obj = json_tokener_parse_ex(tok, text, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (!obj || json_tokener_get_error(tok) != json_tokener_success) {
		enum json_tokener_error jerr = json_tokener_get_error(tok);

		err = invalid(why, why_size, jerr == json_tokener_continue ?
						     "incomplete JSON" :
						     json_tokener_error_desc(jerr));
	} else if (!blank(text + end, len - end)) {
		err = invalid(why, why_size, "text after the JSON object");
	} else if (!json_object_is_type(obj, json_type_object)) {
		err = invalid(why, why_size, "not a JSON object");
	}
	json_tokener_free(tok);
	if (err) {
		json_object_put(obj);
		return err;
	}
	*ret_obj = obj;
	return 0;
}

int json_read_file(const char *path, size_t max, char **ret_text, size_t *ret_len)
{
	struct stat st;
	size_t done = 0;
	char *text;
	ssize_t n;
	int fd, err = 0;

	/* O_NONBLOCK: a FIFO planted where a file was expected must not hang
	 * us in open(); for a regular file it changes nothing. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		err = S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
		goto out;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		err = -ENOMEM;
		goto out;
	}
	/* The size may change under us: read at most what was allocated. */
	while (done < (size_t)st.st_size &&
	       (n = read(fd, text + done, (size_t)st.st_size - done)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			free(text);
			goto out;
		}
		done += (size_t)n;
	}
	text[done] = '\0';
	if (strlen(text) != done) {
		free(text);
		err = -EBADMSG;
		goto out;
	}
	*ret_text = text;
	*ret_len = done;
out:
	close(fd);
	return err;
}
