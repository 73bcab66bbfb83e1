#!/usr/bin/env bash
# Builds and tests the Nexori bridge client with the JDK's own tools and Debian's jars
# (apt-get install -y libjackson2-databind-java junit5). Works from any directory.
#   clients/java/build.sh              compile, jar, compile tests, run tests
#   JAVA_LIB=/path/to/jars build.sh    look for the jars somewhere else than /usr/share/java
#   clients/java/build.sh --no-tests   compile and build the jars only
#   NEXORI_BIN=/path/to/nexori build.sh  also run the live tests against that binary: LiveServeTest, and
#                                        the arena bot's end-to-end match (NEXORI_MODS: the directory
#                                        holding capture_the_zone.wasm, default target/nexori-mods)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lib="${JAVA_LIB:-/usr/share/java}"
target="$here/target"

for tool in javac jar java; do
    command -v "$tool" >/dev/null || { echo "build.sh: $tool not found: install a JDK 17 or newer" >&2; exit 2; }
done

jars=(jackson-databind.jar jackson-core.jar jackson-annotations.jar junit-platform-console-standalone.jar
      junit-jupiter-api.jar junit-platform-commons.jar opentest4j.jar apiguardian-api.jar)
missing=()
for j in "${jars[@]}"; do
    [[ -f "$lib/$j" ]] || missing+=("$lib/$j")
done
if (( ${#missing[@]} )); then
    echo "build.sh: missing ${missing[*]}" >&2
    echo "build.sh: install libjackson2-databind-java junit5 (apt-get update && apt-get install -y libjackson2-databind-java junit5)" >&2
    exit 2
fi

jackson="$lib/jackson-databind.jar:$lib/jackson-core.jar:$lib/jackson-annotations.jar"
launcher="$lib/junit-platform-console-standalone.jar"
junit_api="$lib/junit-jupiter-api.jar:$lib/junit-platform-commons.jar:$lib/opentest4j.jar:$lib/apiguardian-api.jar"

rm -rf "$target"
mkdir -p "$target/classes" "$target/test-classes"

echo "==> compiling main sources"
find "$here/src/main/java" -name '*.java' > "$target/main-sources.txt"
javac --release 17 -Xlint:all -Werror -encoding UTF-8 -d "$target/classes" -cp "$jackson" @"$target/main-sources.txt"

echo "==> building target/nexori-bridge-client.jar"
jar --create --file "$target/nexori-bridge-client.jar" -C "$target/classes" .

echo "==> compiling the arena bot, building target/nexori-arena-bot.jar"
mkdir -p "$target/bot-classes"
find "$here/bot/src" -name '*.java' > "$target/bot-sources.txt"
javac --release 17 -Xlint:all -Werror -encoding UTF-8 -d "$target/bot-classes" -cp "$target/classes:$jackson" \
    @"$target/bot-sources.txt"
jar --create --file "$target/nexori-arena-bot.jar" --main-class gg.nexori.bot.ArenaBot -C "$target/bot-classes" .
# What `java -cp "$(cat target/bot-classpath.txt)" gg.nexori.bot.ArenaBot` needs.
echo "$target/nexori-arena-bot.jar:$target/nexori-bridge-client.jar:$jackson" > "$target/bot-classpath.txt"

if [[ "${1:-}" == "--no-tests" ]]; then
    exit 0
fi

echo "==> compiling tests"
find "$here/src/test/java" -name '*.java' > "$target/test-sources.txt"
javac --release 17 -encoding UTF-8 -d "$target/test-classes" \
    -cp "$target/classes:$target/bot-classes:$jackson:$junit_api" @"$target/test-sources.txt"

echo "==> running tests"
props=()
if [[ -n "${NEXORI_BIN:-}" ]]; then
    props+=("-Dnexori.bin=$NEXORI_BIN")
    mods="${NEXORI_MODS:-$(cd "$(dirname "$NEXORI_BIN")/.." && pwd)/nexori-mods}"
    props+=("-Dnexori.mods=$mods")
fi
java "${props[@]}" -Djava.util.logging.config.file="$here/src/test/resources/logging.properties" -jar "$launcher" \
    --class-path "$target/test-classes:$target/classes:$target/bot-classes:$jackson" \
    --scan-class-path "$target/test-classes" \
    --exclude-engine=junit-vintage \
    --disable-banner --details=summary --details-theme=ascii --fail-if-no-tests
