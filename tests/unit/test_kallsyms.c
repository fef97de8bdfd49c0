/* The noaudit functions' address ranges, from a kallsyms file written into a
 * scratch proc root: each range ends where the next symbol begins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kernel/kallsyms.h"
#include "scratch.h"

static char root[SCRATCH_DIR_LEN];

static void write_kallsyms(const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/kallsyms", root);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	(void)state;
	return scratch_dir_make(root, "kallsyms");
}

static int teardown(void **state)
{
	(void)state;
	return scratch_dir_remove(root);
}

/* Every function of the list, in its order by address, among others, as
 * /proc/kallsyms shows them to a reader allowed to see addresses. Types
 * vary ('T' global, 't' static, 'W' weak, 'd' data): any symbol ends the
 * one before it. */
static const char all_functions[] =
	"ffffffff81000000 T _stext\n"
	"ffffffff81000000 T _text\n"
	"ffffffff81234500 T cap_capable\n"
	"ffffffff81234560 T security_vm_enough_memory_mm\n"
	"ffffffff81234620 t security_vm_enough_memory_mm.cold\n"
	"ffffffff81234700 t cap_vm_enough_memory\n"
	"ffffffff81234780 W cap_mmap_file\n"
	"ffffffff81300000 T ns_capable_noaudit\n"
	"ffffffff81300040 T ns_capable_setid\n"
	"ffffffff81300100 T has_ns_capability_noaudit\n"
	"ffffffff81300180 d has_ns_capability_noaudit_data\n"
	"ffffffff81300200 T has_capability_noaudit\n"
	"ffffffff81300250 T capable\n"
	"ffffffff81400000 T kallsyms_show_value\n"
	"ffffffff814000a0 t kallsyms_open\n"
	"ffffffff81500000 T _etext\n";

static const struct ct_noaudit_range all_ranges[] = {
	{ 0xffffffff81234560ull, 0xffffffff81234620ull },
	{ 0xffffffff81234700ull, 0xffffffff81234780ull },
	{ 0xffffffff81300000ull, 0xffffffff81300040ull },
	{ 0xffffffff81300100ull, 0xffffffff81300180ull },
	{ 0xffffffff81300200ull, 0xffffffff81300250ull },
	{ 0xffffffff81400000ull, 0xffffffff814000a0ull },
};

static void assert_range(const struct ct_noaudit_range *got, const struct ct_noaudit_range *want)
{
	assert_true(got->start == want->start);
	assert_true(got->end == want->end);
}

/* The ranges found in text as a kallsyms file, which must be read: how
 * many. */
static size_t ranges_in(const char *text, struct ct_noaudit_range ranges[CT_NOAUDIT_RANGES])
{
	size_t count = 99;

	write_kallsyms(text);
	assert_int_equal(kallsyms_noaudit_ranges(root, ranges, CT_NOAUDIT_RANGES, &count), 0);
	return count;
}

static void test_all_functions(void **state)
{
	struct ct_noaudit_range ranges[CT_NOAUDIT_RANGES];

	(void)state;
	/* The fixture names each function of the list once: a new one added to
	 * the list and not here shows as a count mismatch below. */
	assert_int_equal(kallsyms_n_noaudit_functions, 6);
	assert_true(kallsyms_n_noaudit_functions <= CT_NOAUDIT_RANGES);
	for (size_t i = 0; i < kallsyms_n_noaudit_functions; i++) {
		char line[300];

		snprintf(line, sizeof(line), " %s\n", kallsyms_noaudit_functions[i]);
		assert_non_null(strstr(all_functions, line));
	}

	assert_int_equal(ranges_in(all_functions, ranges), 6);
	for (size_t i = 0; i < 6; i++)
		assert_range(&ranges[i], &all_ranges[i]);
}

/* A kernel without some of them (inlined, renamed, configured out): the
 * rest are found, the missing ones leave no hole. */
static void test_missing_functions_skipped(void **state)
{
	struct ct_noaudit_range ranges[CT_NOAUDIT_RANGES];

	(void)state;
	assert_int_equal(ranges_in("ffffffff81000000 T _stext\n"
				   "ffffffff81234560 T security_vm_enough_memory_mm\n"
				   "ffffffff81234620 T cap_capable\n"
				   "ffffffff81300100 T has_ns_capability_noaudit_extra\n"
				   "ffffffff81300200 T has_capability_noaudit\n"
				   "ffffffff81300250 T capable\n"
				   "ffffffff81500000 T _etext\n", ranges), 2);
	assert_range(&ranges[0], &all_ranges[0]);
	assert_range(&ranges[1], &all_ranges[4]);

	/* None of them: no range, not an error. */
	assert_int_equal(ranges_in("ffffffff81000000 T _stext\n"
				   "ffffffff81234500 T cap_capable\n"
				   "ffffffff81500000 T _etext\n", ranges), 0);
}

/* Only text is code: a data or bss symbol of the same name is not the
 * function, though it still ends the symbol before it. */
static void test_only_text_symbols(void **state)
{
	struct ct_noaudit_range ranges[CT_NOAUDIT_RANGES];

	(void)state;
	assert_int_equal(ranges_in("ffffffff81000000 T _stext\n"
				   "ffffffff81234560 D security_vm_enough_memory_mm\n"
				   "ffffffff81234700 t cap_vm_enough_memory\n"
				   "ffffffff81234740 b ns_capable_noaudit\n"
				   "ffffffff81500000 T _etext\n", ranges), 1);
	assert_true(ranges[0].start == 0xffffffff81234700ull);
	assert_true(ranges[0].end == 0xffffffff81234740ull);
}

/* The last symbol of the file has no known end: no range for it, rather
 * than one that covers everything above. */
static void test_last_symbol_dropped(void **state)
{
	struct ct_noaudit_range ranges[CT_NOAUDIT_RANGES];

	(void)state;
	assert_int_equal(ranges_in("ffffffff81234560 T security_vm_enough_memory_mm\n"
				   "ffffffff81234620 T cap_capable\n"
				   "ffffffff81400000 T kallsyms_show_value\n", ranges), 1);
	assert_range(&ranges[0], &all_ranges[0]);
}

/* Two wanted names at one address (aliases, as has_capability_noaudit
 * may be of has_ns_capability_noaudit) are one function: one range,
 * closed by the next symbol. Each used to open its own, and the first was
 * never closed (an end of 0) yet counted. A symbol of another name at the
 * same address, between or after them, changes nothing. */
static void test_aliases_share_range(void **state)
{
	static const struct ct_noaudit_range alias = { 0xffffffff81300000ull,
						       0xffffffff81300080ull };
	struct ct_noaudit_range ranges[CT_NOAUDIT_RANGES];

	(void)state;
	assert_int_equal(ranges_in("ffffffff81000000 T _stext\n"
				   "ffffffff81300000 T has_capability_noaudit\n"
				   "ffffffff81300000 T has_ns_capability_noaudit\n"
				   "ffffffff81300080 T capable\n"
				   "ffffffff81500000 T _etext\n", ranges), 1);
	assert_range(&ranges[0], &alias);

	/* Among others, with ranges before and after it that stay whole. */
	assert_int_equal(ranges_in("ffffffff81000000 T _stext\n"
				   "ffffffff81234560 T security_vm_enough_memory_mm\n"
				   "ffffffff81234620 T cap_capable\n"
				   "ffffffff81300000 T has_ns_capability_noaudit\n"
				   "ffffffff81300000 t unrelated_alias\n"
				   "ffffffff81300000 T has_capability_noaudit\n"
				   "ffffffff81300000 T ns_capable_noaudit\n"
				   "ffffffff81300080 T capable\n"
				   "ffffffff81400000 T kallsyms_show_value\n"
				   "ffffffff814000a0 t kallsyms_open\n"
				   "ffffffff81500000 T _etext\n", ranges), 3);
	assert_range(&ranges[0], &all_ranges[0]);
	assert_range(&ranges[1], &alias);
	assert_range(&ranges[2], &all_ranges[5]);
	for (size_t i = 0; i < 3; i++)
		assert_true(ranges[i].start < ranges[i].end);
}

/* Lines that are not "address type name" are skipped, not fatal. */
static void test_malformed_lines(void **state)
{
	struct ct_noaudit_range ranges[CT_NOAUDIT_RANGES];

	(void)state;
	assert_int_equal(ranges_in("\n"
				   "garbage\n"
				   "ffffffff81000000\n"
				   "ffffffff81234560 T security_vm_enough_memory_mm\n"
				   "zzzz T ns_capable_noaudit\n"
				   "ffffffff81234620 T cap_capable\n"
				   "ffffffff81500000 T _etext\n", ranges), 1);
	assert_range(&ranges[0], &all_ranges[0]);
}

/* kptr_restrict without CAP_SYSLOG: every address reads as zero. Nothing
 * of it is usable, and the caller must learn why. */
static void test_hidden_addresses(void **state)
{
	struct ct_noaudit_range ranges[CT_NOAUDIT_RANGES] = { { 1, 2 } };
	size_t count = 99;

	(void)state;
	write_kallsyms("0000000000000000 T _stext\n"
		       "0000000000000000 T security_vm_enough_memory_mm\n"
		       "0000000000000000 t cap_vm_enough_memory\n"
		       "0000000000000000 T ns_capable_noaudit\n"
		       "0000000000000000 T _etext\n");
	assert_int_equal(kallsyms_noaudit_ranges(root, ranges, CT_NOAUDIT_RANGES, &count), -EPERM);
	/* Outputs untouched on failure. */
	assert_int_equal(count, 99);
	assert_true(ranges[0].start == 1 && ranges[0].end == 2);
}

static void test_missing_file(void **state)
{
	struct ct_noaudit_range ranges[CT_NOAUDIT_RANGES];
	char path[PATH_MAX];
	size_t count = 99;

	(void)state;
	snprintf(path, sizeof(path), "%s/kallsyms", root);
	unlink(path);
	assert_int_equal(kallsyms_noaudit_ranges(root, ranges, CT_NOAUDIT_RANGES, &count),
			 -ENOENT);
	assert_int_equal(count, 99);
	snprintf(path, sizeof(path), "%s/nonexistent", root);
	assert_int_equal(kallsyms_noaudit_ranges(path, ranges, CT_NOAUDIT_RANGES, &count),
			 -ENOENT);
	assert_int_equal(count, 99);
}

/* Room for fewer ranges than found: no more than max are written, and the
 * ones written are whole. */
static void test_max_respected(void **state)
{
	struct ct_noaudit_range ranges[CT_NOAUDIT_RANGES + 1];
	size_t count = 99;

	(void)state;
	write_kallsyms(all_functions);
	memset(ranges, 0xee, sizeof(ranges));
	assert_int_equal(kallsyms_noaudit_ranges(root, ranges, 2, &count), 0);
	assert_int_equal(count, 2);
	assert_range(&ranges[0], &all_ranges[0]);
	assert_range(&ranges[1], &all_ranges[1]);
	/* Beyond max: not written. */
	assert_true(ranges[2].start == 0xeeeeeeeeeeeeeeeeull);

	memset(ranges, 0xee, sizeof(ranges));
	assert_int_equal(kallsyms_noaudit_ranges(root, ranges, 5, &count), 0);
	assert_int_equal(count, 5);
	for (size_t i = 0; i < 5; i++)
		assert_range(&ranges[i], &all_ranges[i]);
	assert_true(ranges[5].start == 0xeeeeeeeeeeeeeeeeull);

	memset(ranges, 0xee, sizeof(ranges));
	assert_int_equal(kallsyms_noaudit_ranges(root, ranges, 0, &count), 0);
	assert_int_equal(count, 0);
	assert_true(ranges[0].start == 0xeeeeeeeeeeeeeeeeull);

	/* More than the BPF side's array never comes back, whatever max says. */
	assert_int_equal(kallsyms_noaudit_ranges(root, ranges, CT_NOAUDIT_RANGES + 1, &count), 0);
	assert_true(count <= CT_NOAUDIT_RANGES);
	assert_int_equal(count, 6);
}

/* The real /proc/kallsyms, as root: readable, and any function it names
 * has a non-empty range. */
static void test_real_kallsyms(void **state)
{
	struct ct_noaudit_range ranges[CT_NOAUDIT_RANGES];
	size_t count = 0;
	int err;

	(void)state;
	if (geteuid() != 0 || access("/proc/kallsyms", R_OK))
		skip();
	err = kallsyms_noaudit_ranges("/proc", ranges, CT_NOAUDIT_RANGES, &count);
	if (err == -EPERM)
		skip(); /* kptr_restrict=2 hides addresses even from root */
	assert_int_equal(err, 0);
	assert_true(count <= kallsyms_n_noaudit_functions);
	for (size_t i = 0; i < count; i++)
		assert_true(ranges[i].start && ranges[i].start < ranges[i].end);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_functions),
		cmocka_unit_test(test_missing_functions_skipped),
		cmocka_unit_test(test_only_text_symbols),
		cmocka_unit_test(test_last_symbol_dropped),
		cmocka_unit_test(test_aliases_share_range),
		cmocka_unit_test(test_malformed_lines),
		cmocka_unit_test(test_hidden_addresses),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_max_respected),
		cmocka_unit_test(test_real_kallsyms),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
