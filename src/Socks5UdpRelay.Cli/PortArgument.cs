using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Socks5UdpRelay.Cli;

/// <summary>A single UDP port argument, 1 to 65535, with an error that names the bad value.</summary>
internal static class PortArgument
{
    public static Argument<int> Create(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = Parse,
    };

    public static int Parse(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        if (!TryParse(text, out int port))
        {
            result.AddError($"{result.Argument.Name}: '{text}' is not a UDP port (1 to 65535).");
        }

        return port;
    }

    public static bool TryParse(ReadOnlySpan<char> text, out int port)
        => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is >= 1 and <= 65535;
}
