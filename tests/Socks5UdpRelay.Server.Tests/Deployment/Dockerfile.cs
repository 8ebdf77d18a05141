using System.Text;
using System.Text.Json;

namespace Socks5UdpRelay.Server.Tests.Deployment;

/// <summary>One instruction: its keyword (upper case), its flags (<c>--from=build</c>) and the rest of its line.</summary>
internal sealed record DockerInstruction(string Keyword, IReadOnlyDictionary<string, string> Flags, string Arguments, int Line);

/// <summary>One <c>FROM</c> and what follows it up to the next.</summary>
internal sealed record DockerStage(string BaseImage, string? Name, IReadOnlyList<DockerInstruction> Instructions)
{
    public IEnumerable<DockerInstruction> All(string keyword) => Instructions.Where(i => i.Keyword == keyword);

    public DockerInstruction? Last(string keyword) => All(keyword).LastOrDefault();
}

/// <summary>
/// A Dockerfile reader for what this repository's Dockerfile uses: line continuations, comments,
/// stages, instruction flags, ENV in <c>key=value</c> form, exec-form (JSON) ENTRYPOINT and
/// HEALTHCHECK CMD, EXPOSE, USER with <c>$VARIABLE</c>. Anything it does not understand it
/// refuses, so a change to the Dockerfile cannot slip past the tests unread.
/// </summary>
internal sealed class Dockerfile
{
    /// <summary>
    /// What the .NET base images define and this Dockerfile relies on (<c>USER $APP_UID</c>): the
    /// non-root user <c>app</c>, uid and gid 1654, in every mcr.microsoft.com/dotnet image since .NET 8.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> DotnetImageEnvironment = new Dictionary<string, string>
    {
        ["APP_UID"] = "1654",
        ["DOTNET_RUNNING_IN_CONTAINER"] = "true",
    };

    private Dockerfile(IReadOnlyList<DockerStage> stages) => Stages = stages;

    public IReadOnlyList<DockerStage> Stages { get; }

    /// <summary>The stage the image is made of: the last.</summary>
    public DockerStage Final => Stages[^1];

    public DockerStage Stage(string name) => Stages.Single(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>ENV of the final stage, in order, later values winning.</summary>
    public IReadOnlyDictionary<string, string> Environment
    {
        get
        {
            var env = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var instruction in Final.All("ENV"))
            {
                foreach (var (key, value) in ParseEnv(instruction))
                {
                    env[key] = value;
                }
            }

            return env;
        }
    }

    /// <summary>The final WORKDIR (absolute).</summary>
    public string WorkingDirectory => Final.Last("WORKDIR")?.Arguments ?? "/";

    /// <summary>USER with variables from the image's ENV and the .NET base image resolved, e.g. 1654.</summary>
    public string User => Expand(Final.Last("USER")?.Arguments ?? "root");

    /// <summary>USER as a number: a name needs the image's /etc/passwd to mean anything, and runAsNonRoot cannot check it.</summary>
    public int UserId => int.TryParse(User, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int uid)
        ? uid
        : throw new InvalidOperationException($"USER {User}: give a numeric uid");

    public IReadOnlyList<string> Entrypoint => ExecForm(Final.Last("ENTRYPOINT") ?? throw new InvalidOperationException("no ENTRYPOINT"));

    /// <summary>The HEALTHCHECK's exec-form command (after CMD).</summary>
    public IReadOnlyList<string> HealthCheckCommand
    {
        get
        {
            var instruction = Final.Last("HEALTHCHECK") ?? throw new InvalidOperationException("no HEALTHCHECK");
            if (!instruction.Arguments.StartsWith("CMD ", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"line {instruction.Line}: HEALTHCHECK without CMD");
            }

            return ExecForm(instruction with { Arguments = instruction.Arguments[4..].Trim() });
        }
    }

    public IReadOnlyDictionary<string, string> HealthCheckOptions => Final.Last("HEALTHCHECK")?.Flags ?? new Dictionary<string, string>();

    /// <summary>EXPOSE entries as written: <c>1080/tcp</c>, <c>40000-40099/udp</c>.</summary>
    public IReadOnlyList<string> Expose => [.. Final.All("EXPOSE").SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries))];

    public string? StopSignal => Final.Last("STOPSIGNAL")?.Arguments;

    /// <summary>The build stage's <c>RUN dotnet publish ...</c>, split into words.</summary>
    public IReadOnlyList<string> PublishCommand =>
        Stages.SelectMany(s => s.All("RUN")).Select(i => Words(i.Arguments)).Single(w => w.Count > 1 && w[0] == "dotnet" && w[1] == "publish");

    public static Dockerfile Load(string path) => Parse(File.ReadAllText(path));

    public static Dockerfile Parse(string text)
    {
        var stages = new List<DockerStage>();
        List<DockerInstruction>? current = null;
        foreach (var instruction in Instructions(text))
        {
            if (instruction.Keyword == "FROM")
            {
                var words = Words(instruction.Arguments);
                string? name = words.Count == 3 && words[1].Equals("AS", StringComparison.OrdinalIgnoreCase) ? words[2]
                    : words.Count == 1 ? null
                    : throw new InvalidOperationException($"line {instruction.Line}: FROM {instruction.Arguments}");
                current = [];
                stages.Add(new DockerStage(words[0], name, current));
                continue;
            }

            (current ?? throw new InvalidOperationException($"line {instruction.Line}: {instruction.Keyword} before FROM")).Add(instruction);
        }

        return stages.Count > 0 ? new Dockerfile(stages) : throw new InvalidOperationException("no FROM");
    }

    /// <summary><c>$NAME</c> and <c>${NAME}</c> from the final stage's ENV, then the .NET image's.</summary>
    public string Expand(string text)
    {
        var env = new Dictionary<string, string>(DotnetImageEnvironment);
        foreach (var (key, value) in Environment)
        {
            env[key] = value;
        }

        var result = new StringBuilder();
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] != '$')
            {
                result.Append(text[i]);
                continue;
            }

            bool braced = i + 1 < text.Length && text[i + 1] == '{';
            int start = braced ? i + 2 : i + 1;
            int end = start;
            while (end < text.Length && (char.IsAsciiLetterOrDigit(text[end]) || text[end] == '_'))
            {
                end++;
            }

            string name = text[start..end];
            result.Append(env.TryGetValue(name, out var value) ? value : throw new InvalidOperationException($"${name} is not defined"));
            i = braced ? end : end - 1;
        }

        return result.ToString();
    }

    public static IReadOnlyList<KeyValuePair<string, string>> ParseEnv(DockerInstruction instruction)
    {
        var pairs = new List<KeyValuePair<string, string>>();
        foreach (string word in Words(instruction.Arguments))
        {
            int eq = word.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new InvalidOperationException($"line {instruction.Line}: ENV '{word}' is not key=value (the legacy 'ENV key value' form is not read here)");
            }

            pairs.Add(new(word[..eq], word[(eq + 1)..]));
        }

        return pairs;
    }

    /// <summary>Splits on blanks; double quotes group (and are removed).</summary>
    public static IReadOnlyList<string> Words(string text)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        bool quoted = false, any = false;
        foreach (char c in text)
        {
            if (c == '"')
            {
                quoted = !quoted;
                any = true;
            }
            else if (char.IsWhiteSpace(c) && !quoted)
            {
                if (any)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    any = false;
                }
            }
            else
            {
                word.Append(c);
                any = true;
            }
        }

        if (quoted)
        {
            throw new InvalidOperationException($"unbalanced quote in: {text}");
        }

        if (any)
        {
            words.Add(word.ToString());
        }

        return words;
    }

    private static IReadOnlyList<string> ExecForm(DockerInstruction instruction)
    {
        if (!instruction.Arguments.StartsWith('['))
        {
            throw new InvalidOperationException($"line {instruction.Line}: {instruction.Keyword} is not in exec form (a JSON array): the shell form would make /bin/sh PID 1, which does not pass SIGTERM on");
        }

        return JsonSerializer.Deserialize<string[]>(instruction.Arguments) ?? throw new InvalidOperationException($"line {instruction.Line}: empty exec form");
    }

    private static IEnumerable<DockerInstruction> Instructions(string text)
    {
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            int first = i + 1;
            var joined = new StringBuilder();
            while (line.EndsWith('\\'))
            {
                joined.Append(line[..^1]).Append(' ');
                // Comment and empty lines inside a continuation are dropped, as Docker does.
                do
                {
                    i++;
                    line = i < lines.Length ? lines[i].Trim() : throw new InvalidOperationException($"line {first}: continuation at the end of the file");
                }
                while (line.Length == 0 || line.StartsWith('#'));
            }

            joined.Append(line);
            string full = joined.ToString();
            int space = full.IndexOf(' ', StringComparison.Ordinal);
            string keyword = (space < 0 ? full : full[..space]).ToUpperInvariant();
            string rest = space < 0 ? string.Empty : full[(space + 1)..].Trim();
            var flags = new Dictionary<string, string>(StringComparer.Ordinal);
            while (rest.StartsWith("--", StringComparison.Ordinal))
            {
                int end = rest.IndexOf(' ', StringComparison.Ordinal);
                string flag = end < 0 ? rest : rest[..end];
                int eq = flag.IndexOf('=', StringComparison.Ordinal);
                flags[eq < 0 ? flag[2..] : flag[2..eq]] = eq < 0 ? string.Empty : flag[(eq + 1)..];
                rest = end < 0 ? string.Empty : rest[(end + 1)..].TrimStart();
            }

            yield return new DockerInstruction(keyword, flags, rest, first);
        }
    }
}
