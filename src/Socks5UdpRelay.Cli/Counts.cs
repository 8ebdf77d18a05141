using System.CommandLine;
using System.Globalization;

namespace Socks5UdpRelay.Cli;

/// <summary>Options that take a whole number in a range (--retries, --max-hops), checked at parse time.</summary>
internal static class Counts
{
    public static Option<int> Create(string name, string? alias, string description, int defaultValue, int min, int max) => new(name, alias is null ? [] : [alias])
    {
        Description = description,
        HelpName = "n",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < min || n > max)
            {
                result.AddError($"{name}: '{text}' is not a number from {min} to {max}.");
                return defaultValue;
            }

            return n;
        },
    };
}
