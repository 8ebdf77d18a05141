using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace Socks5UdpRelay.Cli;

/// <summary>
/// System.CommandLine's help, followed by an "Examples:" section for commands that have one:
/// people copy a working line sooner than they read an options table.
/// </summary>
internal sealed class HelpWithExamples(HelpAction inner, IReadOnlyDictionary<Command, string> examples) : SynchronousCommandLineAction
{
    public override int Invoke(ParseResult parseResult)
    {
        int result = inner.Invoke(parseResult);
        if (examples.TryGetValue(parseResult.CommandResult.Command, out string? text))
        {
            var output = parseResult.InvocationConfiguration.Output;
            output.WriteLine("Examples:");
            output.WriteLine(text.TrimEnd());
            output.WriteLine();
        }

        return result;
    }

    /// <summary>Puts this action on the root's help option, which is recursive and so serves every command.</summary>
    public static void Install(RootCommand root, IReadOnlyDictionary<Command, string> examples)
    {
        var help = root.Options.OfType<HelpOption>().Single();
        help.Action = new HelpWithExamples((HelpAction)help.Action!, examples);
    }
}
