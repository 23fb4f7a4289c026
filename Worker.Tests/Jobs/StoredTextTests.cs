using System.Text;
using JobWorker.Jobs;
using NUnit.Framework.Constraints;
using Npgsql;
using NpgsqlTypes;

namespace JobWorker.Tests.Jobs;

public sealed class StoredTextTests
{
    // Attribute arguments are stored as UTF-8, which cannot hold a lone surrogate: such cases are built at run time.
    public static IEnumerable<TestCaseData> Unchanged()
    {
        yield return new TestCaseData("plain text").SetName("Clean returns plain text as it is");
        yield return new TestCaseData("a pair stays: \ud83d\ude00").SetName("Clean returns a surrogate pair as it is");
        yield return new TestCaseData("").SetName("Clean returns empty text as it is");
    }

    [TestCaseSource(nameof(Unchanged))]
    public void Clean_returns_the_same_instance_when_nothing_needs_replacing(string text)
    {
        Assert.That(StoredText.Clean(text), Is.SameAs(text));
    }

    public static IEnumerable<TestCaseData> Replaced()
    {
        yield return new TestCaseData("a\0b", "a\uFFFDb").SetName("Clean replaces a NUL");
        yield return new TestCaseData("lone high \ud83d", "lone high \uFFFD").SetName("Clean replaces a lone high surrogate at the end");
        yield return new TestCaseData("\ude00 lone low", "\uFFFD lone low").SetName("Clean replaces a lone low surrogate");
        yield return new TestCaseData("high then pair \ud83d\ud83d\ude00", "high then pair \uFFFD\ud83d\ude00").SetName("Clean replaces a high surrogate followed by a pair");
        yield return new TestCaseData("reversed \ude00\ud83d", "reversed \uFFFD\uFFFD").SetName("Clean replaces a reversed pair");
        yield return new TestCaseData("\0\ud83d", "\uFFFD\uFFFD").SetName("Clean replaces a NUL and a lone surrogate");
    }

    [TestCaseSource(nameof(Replaced))]
    public void Clean_replaces_NUL_and_unpaired_surrogates_with_the_replacement_character(string text, string expected)
    {
        Assert.That(StoredText.Clean(text), Is.EqualTo(expected));
    }

    [Test]
    public void Clean_keeps_null()
    {
        Assert.That(StoredText.Clean(null), Is.Null);
        Assert.That(StoredText.CleanJson(null), Is.Null);
    }

    [TestCase("""{"a": "plain", "n": [1, 2.5e3, true, null]}""")]
    [TestCase("""{"emoji": "\ud83d\ude00", "upper": "\uD83D\uDE00", "e": "\u00e9"}""")]
    [TestCase("""{"escaped backslash": "\\u0000 and \\ud83d"}""")]
    [TestCase("1e1000000")]
    public void CleanJson_returns_the_same_instance_when_nothing_needs_replacing(string json)
    {
        Assert.That(StoredText.CleanJson(json), Is.SameAs(json));
    }

    [TestCase("""{"text": "a\u0000b"}""", """{"text": "a\uFFFDb"}""")]
    [TestCase("""{"k\u0000": [1, "\u0000"]}""", """{"k\uFFFD": [1, "\uFFFD"]}""")]
    [TestCase("""["\ud83d"]""", """["\uFFFD"]""")]
    [TestCase("""["\uDE00 low"]""", """["\uFFFD low"]""")]
    [TestCase("""["\ud83dx"]""", """["\uFFFDx"]""")]
    [TestCase("""["\ud83d\u0041"]""", """["\uFFFD\u0041"]""")]
    [TestCase("""["\ud83d\ud83d\ude00"]""", """["\uFFFD\ud83d\ude00"]""")]
    [TestCase("""["\ude00\ud83d"]""", """["\uFFFD\uFFFD"]""")]
    [TestCase("""{"\ud83d": {"deep": ["\\", "\\\u0000"]}}""", """{"\uFFFD": {"deep": ["\\", "\\\uFFFD"]}}""")]
    [TestCase("""  [ "\ud83d" ,  "\u0000" ]  """, """  [ "\uFFFD" ,  "\uFFFD" ]  """)]
    public void CleanJson_replaces_NUL_and_unpaired_surrogate_escapes_in_strings_and_names(string json, string expected)
    {
        Assert.That(StoredText.CleanJson(json), Is.EqualTo(expected));
    }

    public static IEnumerable<TestCaseData> RawCharacters()
    {
        yield return new TestCaseData("[\"raw \ud83d char\"]", "[\"raw \uFFFD char\"]").SetName("CleanJson replaces a raw lone surrogate");
        yield return new TestCaseData("[\"raw \0 char\"]", "[\"raw \uFFFD char\"]").SetName("CleanJson replaces a raw NUL");
        yield return new TestCaseData("{\"\ude00\": \"\ud83d\ude00\"}", "{\"\uFFFD\": \"\ud83d\ude00\"}").SetName("CleanJson replaces a raw lone surrogate in a name and keeps a raw pair");
    }

    [TestCaseSource(nameof(RawCharacters))]
    public void CleanJson_replaces_raw_NUL_and_unpaired_surrogate_characters(string json, string expected)
    {
        Assert.That(StoredText.CleanJson(json), Is.EqualTo(expected));
    }

    public static IEnumerable<TestCaseData> UnstorableText()
    {
        yield return new TestCaseData("bad\0error").SetName("Text with a NUL is stored once cleaned");
        yield return new TestCaseData("lone \ud83d high").SetName("Text with a lone high surrogate is stored once cleaned");
        yield return new TestCaseData("lone \ude00 low").SetName("Text with a lone low surrogate is stored once cleaned");
    }

    [TestCaseSource(nameof(UnstorableText))]
    public async Task Cleaned_text_is_stored_where_the_raw_text_fails(string text)
    {
        Assert.That(async () => await WriteAsync(text, NpgsqlDbType.Text), Unwritable, "the raw text cannot be written");

        var stored = await WriteAsync(StoredText.Clean(text)!, NpgsqlDbType.Text);

        Assert.That(stored, Does.Contain("\uFFFD"));
    }

    public static IEnumerable<TestCaseData> UnstorableJson()
    {
        yield return new TestCaseData("""{"text": "a\u0000b"}""").SetName("JSON with a NUL escape is stored once cleaned");
        yield return new TestCaseData("""{"text": "a\ud83d"}""").SetName("JSON with a lone high surrogate escape is stored once cleaned");
        yield return new TestCaseData("""{"text": "\ude00b"}""").SetName("JSON with a lone low surrogate escape is stored once cleaned");
        yield return new TestCaseData("""{"\ud83d": 1}""").SetName("JSON with a lone surrogate escape in a name is stored once cleaned");
        yield return new TestCaseData("{\"text\": \"raw \ud83d\"}").SetName("JSON with a raw lone surrogate is stored once cleaned");
    }

    [TestCaseSource(nameof(UnstorableJson))]
    public async Task Cleaned_json_is_stored_where_the_raw_json_fails(string json)
    {
        Assert.That(async () => await WriteAsync(json, NpgsqlDbType.Jsonb), Unwritable, "the raw JSON cannot be written");

        var stored = await WriteAsync(StoredText.CleanJson(json)!, NpgsqlDbType.Jsonb);

        Assert.That(stored, Does.Contain("\uFFFD"));
    }

    [Test]
    public async Task Cleaned_json_keeps_surrogate_pairs_and_the_rest_of_the_value()
    {
        var stored = await WriteAsync(StoredText.CleanJson("""{"pair": "\ud83d\ude00", "lone": "\ud83d", "n": [1, null]}""")!, NpgsqlDbType.Jsonb);

        Assert.That(stored, Is.EqualTo("{\"n\": [1, null], \"lone\": \"\uFFFD\", \"pair\": \"\ud83d\ude00\"}"));
    }

    /// <summary>PostgreSQL refuses the value, or Npgsql cannot encode it as UTF-8.</summary>
    private static IResolveConstraint Unwritable =>
        Throws.Exception.With.Matches<Exception>(e => e is PostgresException or EncoderFallbackException);

    /// <summary>Writes the value into a temp table's column of that type and reads it back as text.</summary>
    private static async Task<string> WriteAsync(string value, NpgsqlDbType type)
    {
        await using var connection = new NpgsqlConnection(TestEnvironment.ConnectionString());
        await connection.OpenAsync();
        await using (var create = new NpgsqlCommand("CREATE TEMP TABLE stored (t text, j jsonb)", connection))
        {
            await create.ExecuteNonQueryAsync();
        }

        var column = type == NpgsqlDbType.Jsonb ? "j" : "t";
        await using var insert = new NpgsqlCommand($"INSERT INTO stored ({column}) VALUES ($1) RETURNING {column}::text", connection)
        {
            Parameters = { new NpgsqlParameter { NpgsqlDbType = type, Value = value } },
        };
        return (string)(await insert.ExecuteScalarAsync())!;
    }
}
