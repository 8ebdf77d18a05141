using System.Diagnostics;
using Socks5UdpRelay.Tests.Shared.Infrastructure;

namespace Socks5UdpRelay.Server.Tests.Deployment;

/// <summary>
/// What <c>docker build</c> would make of the Dockerfile, made without Docker (there is no engine
/// here): each stage gets a folder standing for its root file system; WORKDIR, COPY (from the
/// build context through .dockerignore, or <c>--from</c> an earlier stage) and RUN (the build
/// stage's <c>dotnet</c> commands, container paths mapped into the stage's folder) are carried
/// out in order. The final stage's folder then holds the image's files, and its ENV, USER and
/// ENTRYPOINT say how to run them. Built once per test class, on first use (a Release publish
/// takes a while on two cores, and a class whose tests all skip should not pay for it).
/// </summary>
public sealed class EmulatedImage : IDisposable
{
    /// <summary>Restore and a Release publish on a loaded two-core machine, with a wide margin.</summary>
    private static readonly TimeSpan s_buildTimeout = TimeSpan.FromMinutes(8);

    private readonly Lazy<Task<BuiltImage>> _built;
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("s5r-image-");

    public EmulatedImage()
    {
        // The image's user must be able to reach the files, as in a container where / is 0755.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_temp.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }

        _built = new(() => Task.Run(Build));
    }

    internal Dockerfile Dockerfile { get; } = Dockerfile.Load(RepositoryFiles.Dockerfile);

    internal Task<BuiltImage> GetAsync() => _built.Value.WaitAsync(s_buildTimeout + TimeSpan.FromMinutes(1));

    public void Dispose()
    {
        // A build still running (a test timed out) is bounded by its own timeout and killed there.
        if (_built.IsValueCreated)
        {
            _built.Value.ContinueWith(_ => { }, TaskScheduler.Default).Wait(s_buildTimeout);
        }

        _temp.Delete(recursive: true);
    }

    private BuiltImage Build()
    {
        var ignore = DockerIgnore.Load(RepositoryFiles.Root);
        var stageRoots = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string root = string.Empty;
        string workdir = "/";
        for (int s = 0; s < Dockerfile.Stages.Count; s++)
        {
            var stage = Dockerfile.Stages[s];
            root = Path.Combine(_temp.FullName, $"stage{s}");
            Directory.CreateDirectory(root);
            stageRoots[stage.Name ?? $"{s}"] = root;
            workdir = "/";
            var environment = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var instruction in stage.Instructions)
            {
                switch (instruction.Keyword)
                {
                    case "WORKDIR":
                        workdir = ContainerPath(instruction.Arguments, workdir);
                        Directory.CreateDirectory(HostPath(root, workdir));
                        break;
                    case "ENV":
                        foreach (var (key, value) in Dockerfile.ParseEnv(instruction))
                        {
                            environment[key] = value;
                        }

                        break;
                    case "COPY":
                        Copy(instruction, stageRoots, ignore, root, workdir);
                        break;
                    case "RUN":
                        Run(instruction, root, workdir, environment);
                        break;
                    case "USER" or "EXPOSE" or "HEALTHCHECK" or "STOPSIGNAL" or "ENTRYPOINT" or "CMD" or "LABEL":
                        break; // metadata: read from the Dockerfile when the image runs
                    default:
                        throw new NotSupportedException($"Dockerfile line {instruction.Line}: {instruction.Keyword} is not emulated; teach EmulatedImage first.");
                }
            }
        }

        return new BuiltImage(Dockerfile, root, HostPath(root, workdir));
    }

    private static void Copy(DockerInstruction instruction, Dictionary<string, string> stageRoots, DockerIgnore ignore, string root, string workdir)
    {
        var words = Dockerfile.Words(instruction.Arguments);
        string destination = ContainerPath(words[^1], workdir);
        bool intoDirectory = words[^1].EndsWith('/') || words[^1] is "." or "./" || words.Count > 2;
        bool fromStage = instruction.Flags.TryGetValue("from", out var stage);
        string sourceRoot = fromStage ? stageRoots[stage!] : RepositoryFiles.Root;
        foreach (string source in words.Take(words.Count - 1))
        {
            string sourcePath = fromStage ? HostPath(sourceRoot, source) : Path.Combine(sourceRoot, source);
            int copied = 0;
            if (Directory.Exists(sourcePath))
            {
                // A folder's contents are copied, not the folder itself.
                foreach (string file in Directory.EnumerateFiles(sourcePath, "*", SearchOption.AllDirectories))
                {
                    if (!fromStage && ignore.IsExcluded(Path.GetRelativePath(sourceRoot, file)))
                    {
                        continue;
                    }

                    string target = Path.Combine(HostPath(root, destination), Path.GetRelativePath(sourcePath, file));
                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    File.Copy(file, target, overwrite: true);
                    copied++;
                }
            }
            else if (File.Exists(sourcePath) && (fromStage || !ignore.IsExcluded(source)))
            {
                string target = intoDirectory ? Path.Combine(HostPath(root, destination), Path.GetFileName(sourcePath)) : HostPath(root, destination);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(sourcePath, target, overwrite: true);
                copied++;
            }

            if (copied == 0)
            {
                throw new InvalidOperationException($"Dockerfile line {instruction.Line}: COPY {source}: not found in {(fromStage ? $"stage {stage}" : "the build context")}, or excluded by .dockerignore");
            }
        }
    }

    /// <summary>
    /// A build-stage RUN of <c>dotnet</c>, in the stage's folder: arguments that are absolute
    /// container paths point into it. Output goes to a file (not a pipe a lingering build server
    /// could hold open), and node reuse and the shared compiler are off so nothing outlives the
    /// step, as nothing outlives a RUN in a build container.
    /// </summary>
    private void Run(DockerInstruction instruction, string root, string workdir, Dictionary<string, string> environment)
    {
        var words = Dockerfile.Words(instruction.Arguments);
        if (words[0] != "dotnet" || instruction.Arguments.IndexOfAny(['&', '|', ';', '>', '<', '$', '`']) >= 0)
        {
            throw new NotSupportedException($"Dockerfile line {instruction.Line}: only a plain 'dotnet ...' RUN is emulated: {instruction.Arguments}");
        }

        string log = Path.Combine(_temp.FullName, $"run-line{instruction.Line}.log");
        var info = new ProcessStartInfo(ExternalTools.Resolve("sh"))
        {
            UseShellExecute = false,
            WorkingDirectory = HostPath(root, workdir),
        };
        foreach (string argument in (string[])["-c", "exec \"$@\" >\"$S5R_RUN_LOG\" 2>&1", "sh", ExternalTools.Resolve("dotnet")])
        {
            info.ArgumentList.Add(argument);
        }

        foreach (string word in words.Skip(1))
        {
            info.ArgumentList.Add(word.StartsWith('/') ? HostPath(root, word) : word);
        }

        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        info.Environment["S5R_RUN_LOG"] = log;
        info.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        info.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        info.Environment["UseSharedCompilation"] = "false";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {instruction.Arguments}");
        if (!process.WaitForExit(s_buildTimeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"Dockerfile line {instruction.Line}: '{instruction.Arguments}' took over {s_buildTimeout}; log: {Tail(log)}");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"Dockerfile line {instruction.Line}: '{instruction.Arguments}' exited {process.ExitCode}: {Tail(log)}");
        }
    }

    private static string Tail(string log) =>
        File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(40)) : "(no output)";

    private static string ContainerPath(string path, string workdir) =>
        path.StartsWith('/') ? path : Path.GetFullPath(Path.Combine(workdir, path));

    private static string HostPath(string root, string containerPath) => Path.Combine(root, containerPath.TrimStart('/'));
}

/// <summary>The emulated image: its files (the final stage's folder) and how the Dockerfile says to run them.</summary>
internal sealed class BuiltImage(Dockerfile dockerfile, string root, string workingDirectory)
{
    /// <summary>PATH as Docker sets it in a container whose image does not.</summary>
    private const string ContainerPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    public Dockerfile Dockerfile { get; } = dockerfile;

    /// <summary>The host folder standing for the image's /.</summary>
    public string Root { get; } = root;

    /// <summary>The host folder standing for the image's WORKDIR (/app).</summary>
    public string WorkingDirectory { get; } = workingDirectory;

    /// <summary>The USER's uid (the .NET images' app user: its gid is the same number).</summary>
    public int UserId => Dockerfile.UserId;

    /// <summary>
    /// <paramref name="command"/> as <c>docker run</c> (or <c>docker exec</c>) would start it in
    /// this image: from the WORKDIR, as the USER (setpriv: no supplementary groups, no
    /// capabilities kept), with only the base image's and the Dockerfile's environment, plus
    /// what the operator adds with <c>-e</c>. HOME is the user's home in the .NET images, which
    /// the user cannot write to: the server must not need a writable root file system.
    /// </summary>
    public ProcessStartInfo Command(IReadOnlyList<string> command, IReadOnlyDictionary<string, string> operatorEnvironment)
    {
        string home = Path.Combine(Root, "home", "app");
        Directory.CreateDirectory(home);
        var info = new ProcessStartInfo(ExternalTools.Resolve("setpriv")) { WorkingDirectory = WorkingDirectory };
        foreach (string argument in (string[])[$"--reuid={UserId}", $"--regid={UserId}", "--clear-groups", "--inh-caps=-all", "--"])
        {
            info.ArgumentList.Add(argument);
        }

        foreach (string word in command)
        {
            info.ArgumentList.Add(word);
        }

        info.Environment.Clear();
        info.Environment["PATH"] = ContainerPath;
        info.Environment["HOME"] = home;
        foreach (var (key, value) in Dockerfile.DotnetImageEnvironment.Concat(Dockerfile.Environment).Concat(operatorEnvironment))
        {
            info.Environment[key] = value;
        }

        return info;
    }
}
