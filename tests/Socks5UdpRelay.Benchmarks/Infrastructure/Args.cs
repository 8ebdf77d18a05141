using System.Globalization;

namespace Socks5UdpRelay.Benchmarks.Infrastructure;

/// <summary>
/// <c>--name value</c> / <c>--name=value</c> / <c>--flag</c> options; repeatable ones keep every value.
/// Small on purpose: the tool's surface is a handful of numbers and lists.
/// </summary>
internal sealed class Args
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public Args(IEnumerable<string> args, IReadOnlySet<string> flags)
    {
        using var e = args.GetEnumerator();
        while (e.MoveNext())
        {
            string a = e.Current;
            if (!a.StartsWith("--", StringComparison.Ordinal))
            {
                throw new UsageException($"unexpected argument '{a}'");
            }

            string name = a[2..];
            string? value = null;
            int eq = name.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0)
            {
                value = name[(eq + 1)..];
                name = name[..eq];
            }
            else if (flags.Contains(name))
            {
                value = "true";
            }
            else if (e.MoveNext())
            {
                value = e.Current;
            }
            else
            {
                throw new UsageException($"--{name} needs a value");
            }

            if (!_values.TryGetValue(name, out var list))
            {
                _values[name] = list = [];
            }

            list.Add(value);
        }
    }

    public IReadOnlyList<string> All(string name)
    {
        _used.Add(name);
        return _values.TryGetValue(name, out var list) ? list : [];
    }

    public string? Get(string name) => All(name) is { Count: > 0 } list ? list[^1] : null;

    public string Get(string name, string fallback) => Get(name) ?? fallback;

    public bool Flag(string name) => Get(name) is { } v && v != "false";

    public int Int(string name, int fallback) => Get(name) is { } v ? ParseInt(name, v) : fallback;

    public double Double(string name, double fallback)
        => Get(name) is { } v ? double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : throw new UsageException($"--{name}: '{v}' is not a number") : fallback;

    /// <summary>A comma-separated or repeated list of integers.</summary>
    public int[] Ints(string name, int[] fallback)
    {
        var list = All(name).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        return list.Count == 0 ? fallback : list.Select(v => ParseInt(name, v)).ToArray();
    }

    public string[] Strings(string name, string[] fallback)
    {
        var list = All(name).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();
        return list.Length == 0 ? fallback : list;
    }

    /// <summary>Fails on options the command never asked for, so a typo is not silently ignored.</summary>
    public void RejectUnknown()
    {
        var unknown = _values.Keys.Where(k => !_used.Contains(k)).ToList();
        if (unknown.Count > 0)
        {
            throw new UsageException($"unknown option(s): {string.Join(", ", unknown.Select(u => "--" + u))}");
        }
    }

    private static int ParseInt(string name, string v)
        => int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int i) ? i : throw new UsageException($"--{name}: '{v}' is not an integer");
}

internal sealed class UsageException(string message) : Exception(message);
