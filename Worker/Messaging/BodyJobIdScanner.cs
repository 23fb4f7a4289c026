using System.Buffers.Text;
using System.Text;

namespace JobWorker.Messaging;

/// <summary>
/// Reads the job id of a SubmitJob body that could not be deserialized: malformed JSON, bytes that are not UTF-8, a
/// body cut short. It walks the JSON structure (objects, arrays, strings with their escapes, comments and trailing
/// commas, which MassTransit's reader accepts too) and takes a string <c>jobId</c> (any case) only from the object
/// that is the message: the top-level object of a raw JSON body, or the top-level <c>message</c> object of a MassTransit
/// envelope. A <c>jobId</c> in a payload, a header or a string names some other job and is never taken. The walk stops
/// at the first structural error: what comes after it cannot be placed with certainty. Two different ids yield none.
/// </summary>
internal static class BodyJobIdScanner
{
    /// <summary>MassTransit's reader refuses deeper bodies too (System.Text.Json's default); it also bounds the recursion.</summary>
    private const int MaxDepth = 64;

    /// <summary>The job id of <paramref name="body"/>, from its top level or, in an envelope, from its message; null when there is none.</summary>
    public static Guid? Find(ReadOnlySpan<byte> body, bool envelope)
    {
        var scanner = new Scanner(body, envelope);
        return scanner.Run();
    }

    private enum Place
    {
        Message,
        Envelope,
        Elsewhere,
    }

    private ref struct Scanner(ReadOnlySpan<byte> body, bool envelope)
    {
        private readonly ReadOnlySpan<byte> _body = body;
        private int _pos;
        private Guid? _found;
        private bool _conflict;

        public Guid? Run()
        {
            if (_body.StartsWith("\uFEFF"u8))
            {
                _pos = 3;
            }

            SkipTrivia();
            if (At('{'))
            {
                Object(envelope ? Place.Envelope : Place.Message, 1);
            }

            return _conflict ? null : _found;
        }

        /// <summary>Walks the object at the cursor; false at the first structural error.</summary>
        private bool Object(Place place, int depth)
        {
            if (depth > MaxDepth)
            {
                return false;
            }

            _pos++;
            while (true)
            {
                SkipTrivia();
                if (At('}'))
                {
                    _pos++;
                    return true;
                }

                if (!String(out var name, out var escaped) || !SkipTrivia() || !At(':'))
                {
                    return false;
                }

                _pos++;
                SkipTrivia();
                if (place == Place.Message && !escaped && At('"') && Ascii.EqualsIgnoreCase(name, "jobId"u8))
                {
                    if (!String(out var value, out var valueEscaped))
                    {
                        return false;
                    }

                    if (!valueEscaped)
                    {
                        Take(value);
                    }
                }
                else
                {
                    var child = place == Place.Envelope && !escaped && At('{') && Ascii.EqualsIgnoreCase(name, "message"u8)
                        ? Place.Message
                        : Place.Elsewhere;
                    if (!Value(child, depth))
                    {
                        return false;
                    }
                }

                SkipTrivia();
                if (At(','))
                {
                    _pos++;
                }
                else if (At('}'))
                {
                    _pos++;
                    return true;
                }
                else
                {
                    return false;
                }
            }
        }

        private bool Array(int depth)
        {
            if (depth > MaxDepth)
            {
                return false;
            }

            _pos++;
            while (true)
            {
                SkipTrivia();
                if (At(']'))
                {
                    _pos++;
                    return true;
                }

                if (!Value(Place.Elsewhere, depth))
                {
                    return false;
                }

                SkipTrivia();
                if (At(','))
                {
                    _pos++;
                }
                else if (At(']'))
                {
                    _pos++;
                    return true;
                }
                else
                {
                    return false;
                }
            }
        }

        private bool Value(Place place, int depth) =>
            _pos < _body.Length && _body[_pos] switch
            {
                (byte)'{' => Object(place, depth + 1),
                (byte)'[' => Array(depth + 1),
                (byte)'"' => String(out _, out _),
                _ => Literal(),
            };

        /// <summary>
        /// Steps over the string at the cursor and gives its raw content. Bytes that are not UTF-8 are stepped over:
        /// they break no structure, and they are often why the body was unreadable.
        /// </summary>
        private bool String(out ReadOnlySpan<byte> content, out bool escaped)
        {
            content = default;
            escaped = false;
            if (!At('"'))
            {
                return false;
            }

            var start = ++_pos;
            while (_pos < _body.Length)
            {
                var b = _body[_pos];
                if (b == '"')
                {
                    content = _body[start.._pos++];
                    return true;
                }

                if (b < 0x20)
                {
                    return false;
                }

                if (b != '\\')
                {
                    _pos++;
                    continue;
                }

                escaped = true;
                if (_pos + 1 >= _body.Length)
                {
                    return false;
                }

                if (_body[_pos + 1] == 'u')
                {
                    if (_pos + 6 > _body.Length || !IsHex(_body.Slice(_pos + 2, 4)))
                    {
                        return false;
                    }

                    _pos += 6;
                }
                else if ("\"\\/bfnrt"u8.Contains(_body[_pos + 1]))
                {
                    _pos += 2;
                }
                else
                {
                    return false;
                }
            }

            return false;
        }

        /// <summary>A number, true, false or null; their spelling is not checked, only where they end.</summary>
        private bool Literal()
        {
            var start = _pos;
            while (_pos < _body.Length && (char.IsAsciiLetterOrDigit((char)_body[_pos]) || _body[_pos] is (byte)'+' or (byte)'-' or (byte)'.'))
            {
                _pos++;
            }

            return _pos > start;
        }

        /// <summary>Steps over whitespace and comments; always true, so it can sit in a chain of checks.</summary>
        private bool SkipTrivia()
        {
            while (_pos < _body.Length)
            {
                var rest = _body[_pos..];
                if (rest[0] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r')
                {
                    _pos++;
                }
                else if (rest.StartsWith("//"u8))
                {
                    var end = rest.IndexOf((byte)'\n');
                    _pos = end < 0 ? _body.Length : _pos + end + 1;
                }
                else if (rest.StartsWith("/*"u8))
                {
                    var end = rest[2..].IndexOf("*/"u8);
                    _pos = end < 0 ? _body.Length : _pos + 2 + end + 2;
                }
                else
                {
                    break;
                }
            }

            return true;
        }

        private readonly bool At(char c) => _pos < _body.Length && _body[_pos] == c;

        private void Take(ReadOnlySpan<byte> text)
        {
            if (!TryParseGuid(text, out var id) || id == Guid.Empty)
            {
                return;
            }

            _conflict |= _found is { } found && found != id;
            _found ??= id;
        }

        private static bool TryParseGuid(ReadOnlySpan<byte> text, out Guid id) =>
            (Utf8Parser.TryParse(text, out id, out var used, 'D') && used == text.Length)
            || (Utf8Parser.TryParse(text, out id, out used, 'N') && used == text.Length);

        private static bool IsHex(ReadOnlySpan<byte> digits)
        {
            foreach (var d in digits)
            {
                if (!char.IsAsciiHexDigit((char)d))
                {
                    return false;
                }
            }

            return true;
        }
    }
}
