using System.Globalization;
using System.Text;

namespace Socks5UdpRelay.Server.Tests.Deployment;

/// <summary>A YAML node: a mapping, a sequence or a scalar (null for an empty value).</summary>
internal abstract class YamlNode
{
    public YamlNode this[string key] => this is YamlMapping m && m.Map.TryGetValue(key, out var v) ? v : throw new KeyNotFoundException($"no '{key}' in {this}");

    public YamlNode this[int index] => Items[index];

    public string Text => this is YamlScalar s ? s.Value ?? string.Empty : throw new InvalidOperationException($"not a scalar: {this}");

    public int Int => int.Parse(Text, CultureInfo.InvariantCulture);

    public IReadOnlyList<YamlNode> Items => this is YamlSequence s ? s.List : throw new InvalidOperationException($"not a sequence: {this}");

    public IReadOnlyDictionary<string, YamlNode> Entries => this is YamlMapping m ? m.Map : throw new InvalidOperationException($"not a mapping: {this}");

    public YamlNode? Get(string key) => this is YamlMapping m && m.Map.TryGetValue(key, out var v) ? v : null;
}

internal sealed class YamlMapping(IReadOnlyDictionary<string, YamlNode> entries) : YamlNode
{
    public IReadOnlyDictionary<string, YamlNode> Map { get; } = entries;

    public override string ToString() => $"{{{string.Join(", ", Map.Keys)}}}";
}

internal sealed class YamlSequence(IReadOnlyList<YamlNode> items) : YamlNode
{
    public IReadOnlyList<YamlNode> List { get; } = items;

    public override string ToString() => $"[{string.Join(", ", List)}]";
}

internal sealed class YamlScalar(string? value) : YamlNode
{
    public string? Value { get; } = value;

    public override string ToString() => Value ?? "null";
}

/// <summary>
/// A small block-YAML reader for the deployment files, without a package: block mappings and
/// sequences by indentation (a sequence may sit at its key's indentation), plain, single- and
/// double-quoted scalars, flow sequences of scalars (<c>["CMD", "dotnet"]</c>), comments, and
/// documents split by <c>---</c>. Anchors, tags, block scalars (<c>|</c>, <c>&gt;</c>) and flow
/// mappings are refused with the line number rather than misread.
/// </summary>
internal static class Yaml
{
    public static IReadOnlyList<YamlNode> LoadAll(string path) => ParseAll(File.ReadAllText(path));

    public static YamlNode Load(string path) => LoadAll(path).Single();

    public static IReadOnlyList<YamlNode> ParseAll(string text)
    {
        var documents = new List<YamlNode>();
        var lines = new List<Line>();
        int number = 0;
        foreach (string raw in text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'))
        {
            number++;
            if (raw.TrimEnd() == "---")
            {
                AddDocument(documents, lines);
                lines = [];
                continue;
            }

            string content = StripComment(raw).TrimEnd();
            if (content.Trim().Length == 0)
            {
                continue;
            }

            if (content.Contains('\t', StringComparison.Ordinal) && content.TrimStart(' ').StartsWith('\t'))
            {
                throw new FormatException($"line {number}: tab indentation");
            }

            int indent = content.Length - content.TrimStart(' ').Length;
            lines.Add(new Line(number, indent, content.Trim()));
        }

        AddDocument(documents, lines);
        return documents;
    }

    private static void AddDocument(List<YamlNode> documents, List<Line> lines)
    {
        if (lines.Count == 0)
        {
            return;
        }

        int i = 0;
        var node = ParseBlock(lines, ref i, lines[0].Indent);
        if (i != lines.Count)
        {
            throw new FormatException($"line {lines[i].Number}: unexpected indentation");
        }

        documents.Add(node);
    }

    private static YamlNode ParseBlock(List<Line> lines, ref int i, int indent)
    {
        var line = lines[i];
        if (IsSequenceItem(line.Content))
        {
            return ParseSequence(lines, ref i, indent);
        }

        if (SplitKey(line) is not null)
        {
            return ParseMapping(lines, ref i, indent);
        }

        i++;
        return Scalar(line.Content, line.Number);
    }

    private static YamlSequence ParseSequence(List<Line> lines, ref int i, int indent)
    {
        var items = new List<YamlNode>();
        while (i < lines.Count && lines[i].Indent == indent && IsSequenceItem(lines[i].Content))
        {
            var line = lines[i];
            string rest = line.Content.Length == 1 ? string.Empty : line.Content[2..].TrimStart();
            if (rest.Length == 0)
            {
                i++;
                items.Add(i < lines.Count && lines[i].Indent > indent ? ParseBlock(lines, ref i, lines[i].Indent) : new YamlScalar(null));
                continue;
            }

            // "- key: value": a mapping whose first line starts after the dash.
            int inner = line.Indent + (line.Content.Length - rest.Length);
            lines[i] = new Line(line.Number, inner, rest);
            items.Add(ParseBlock(lines, ref i, inner));
        }

        return new YamlSequence(items);
    }

    private static YamlMapping ParseMapping(List<Line> lines, ref int i, int indent)
    {
        var entries = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        while (i < lines.Count && lines[i].Indent == indent && !IsSequenceItem(lines[i].Content))
        {
            var line = lines[i];
            var (key, value) = SplitKey(line) ?? throw new FormatException($"line {line.Number}: expected 'key: value' in a mapping");
            i++;
            YamlNode node;
            if (value.Length > 0)
            {
                node = Scalar(value, line.Number);
            }
            else if (i < lines.Count && lines[i].Indent > indent)
            {
                node = ParseBlock(lines, ref i, lines[i].Indent);
            }
            else if (i < lines.Count && lines[i].Indent == indent && IsSequenceItem(lines[i].Content))
            {
                node = ParseSequence(lines, ref i, indent);
            }
            else
            {
                node = new YamlScalar(null);
            }

            if (!entries.TryAdd(key, node))
            {
                throw new FormatException($"line {line.Number}: duplicate key '{key}'");
            }
        }

        return new YamlMapping(entries);
    }

    private static bool IsSequenceItem(string content) => content == "-" || content.StartsWith("- ", StringComparison.Ordinal);

    /// <summary>"key: value" or "key:" with a plain or quoted key; null when the line is not a mapping entry.</summary>
    private static (string Key, string Value)? SplitKey(Line line)
    {
        string content = line.Content;
        if (content.StartsWith('"') || content.StartsWith('\''))
        {
            int close = content.IndexOf(content[0], 1);
            if (close > 0 && close + 1 < content.Length && content[close + 1] == ':' && (close + 2 == content.Length || content[close + 2] == ' '))
            {
                return (Unquote(content[..(close + 1)], line.Number), content[(close + 2)..].Trim());
            }

            return null;
        }

        if (content.StartsWith('[') || content.StartsWith('{'))
        {
            return null;
        }

        for (int j = 0; j < content.Length; j++)
        {
            if (content[j] == ':' && (j + 1 == content.Length || content[j + 1] == ' '))
            {
                return (content[..j].Trim(), content[(j + 1)..].Trim());
            }
        }

        return null;
    }

    private static YamlNode Scalar(string text, int number)
    {
        if (text.StartsWith('['))
        {
            if (!text.EndsWith(']'))
            {
                throw new FormatException($"line {number}: a flow sequence must end on its line");
            }

            var items = new List<YamlNode>();
            foreach (string item in SplitFlow(text[1..^1], number))
            {
                items.Add(new YamlScalar(Unquote(item, number)));
            }

            return new YamlSequence(items);
        }

        if (text.StartsWith('{') || text.StartsWith('|') || text.StartsWith('>') || text.StartsWith('&') || text.StartsWith('*') || text.StartsWith('!'))
        {
            throw new FormatException($"line {number}: '{text}' uses YAML this reader does not support");
        }

        return new YamlScalar(Unquote(text, number));
    }

    private static IEnumerable<string> SplitFlow(string text, int number)
    {
        var item = new StringBuilder();
        char quote = '\0';
        foreach (char c in text)
        {
            if (quote != '\0')
            {
                if (c == quote)
                {
                    quote = '\0';
                }
            }
            else if (c is '"' or '\'')
            {
                quote = c;
            }
            else if (c is '[' or '{')
            {
                throw new FormatException($"line {number}: nested flow collections are not supported");
            }
            else if (c == ',')
            {
                yield return item.ToString().Trim();
                item.Clear();
                continue;
            }

            item.Append(c);
        }

        if (item.ToString().Trim().Length > 0)
        {
            yield return item.ToString().Trim();
        }
    }

    private static string Unquote(string text, int number)
    {
        if (text.Length >= 2 && text[0] == '\'' && text[^1] == '\'')
        {
            return text[1..^1].Replace("''", "'", StringComparison.Ordinal);
        }

        if (text.Length >= 2 && text[0] == '"' && text[^1] == '"')
        {
            var value = new StringBuilder();
            for (int i = 1; i < text.Length - 1; i++)
            {
                if (text[i] != '\\')
                {
                    value.Append(text[i]);
                    continue;
                }

                i++;
                value.Append(text[i] switch
                {
                    '"' => '"',
                    '\\' => '\\',
                    '/' => '/',
                    'n' => '\n',
                    't' => '\t',
                    _ => throw new FormatException($"line {number}: escape \\{text[i]} is not supported"),
                });
            }

            return value.ToString();
        }

        if (text.StartsWith('"') || text.StartsWith('\''))
        {
            throw new FormatException($"line {number}: unterminated quoted scalar {text}");
        }

        return text;
    }

    /// <summary>Drops a comment: '#' at the start or after a blank, outside quotes.</summary>
    private static string StripComment(string line)
    {
        char quote = '\0';
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quote != '\0')
            {
                if (c == quote)
                {
                    quote = '\0';
                }
            }
            else if ((c is '"' or '\'') && (i == 0 || line[i - 1] is ' ' or '[' or ',' or ':' or '-'))
            {
                quote = c;
            }
            else if (c == '#' && (i == 0 || line[i - 1] == ' '))
            {
                return line[..i];
            }
        }

        return line;
    }

    private sealed record Line(int Number, int Indent, string Content);
}
