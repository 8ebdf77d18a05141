using System.Text;
using Socks5UdpRelay.Server.Auth;

namespace Socks5UdpRelay.Server.Tools;

/// <summary>
/// <c>Socks5UdpRelay.Server hash-password [--iterations N]</c>: reads a password (a prompt without
/// echo on a terminal, else the first line of standard input) and prints the hash for
/// <c>Auth:Users:N:PasswordHash</c>. Never takes the password as an argument, where it would
/// land in shell history and process listings.
/// </summary>
internal static class HashPasswordCommand
{
    public const string Name = "hash-password";

    public static int Run(string[] args, TextReader input, TextWriter output, TextWriter error)
    {
        int iterations = PasswordHash.DefaultIterations;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--iterations" && i + 1 < args.Length && int.TryParse(args[i + 1], out iterations) && iterations is >= 10_000 and <= 10_000_000)
            {
                i++;
                continue;
            }

            if (args[i] is "-h" or "--help")
            {
                output.WriteLine("Usage: Socks5UdpRelay.Server hash-password [--iterations N]");
                output.WriteLine("Reads a password from standard input (or a prompt) and prints its hash for Auth:Users:N:PasswordHash.");
                output.WriteLine($"  --iterations N   PBKDF2-SHA256 iterations, 10000 to 10000000 (default {PasswordHash.DefaultIterations})");
                output.WriteLine("Example: echo -n 's3cret' | Socks5UdpRelay.Server hash-password");
                return 0;
            }

            error.WriteLine($"hash-password: unknown or invalid argument '{args[i]}' (see --help)");
            return 2;
        }

        string? password = ReadPassword(input, error);
        if (string.IsNullOrEmpty(password) || Encoding.UTF8.GetByteCount(password) > 255)
        {
            error.WriteLine("hash-password: a password has 1 to 255 bytes (RFC 1929)");
            return 2;
        }

        output.WriteLine(PasswordHash.Create(password, iterations));
        return 0;
    }

    private static string? ReadPassword(TextReader input, TextWriter error)
    {
        if (!Console.IsInputRedirected && ReferenceEquals(input, Console.In))
        {
            error.Write("Password: ");
            var text = new StringBuilder();
            while (true)
            {
                var key = Console.ReadKey(intercept: true);
                if (key.Key == ConsoleKey.Enter)
                {
                    error.WriteLine();
                    return text.ToString();
                }

                if (key.Key == ConsoleKey.Backspace && text.Length > 0)
                {
                    text.Length--;
                }
                else if (!char.IsControl(key.KeyChar))
                {
                    text.Append(key.KeyChar);
                }
            }
        }

        return input.ReadLine()?.TrimEnd('\r');
    }
}
