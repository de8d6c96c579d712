# Builds every Ocorrências executable and runs one of them (selected by the container's command).
#   docker build -t ocorrencias .
#   docker run ocorrencias intake          # or workflow, notification, knowledge, gateway
# Stage 1: the Swift toolchain on Debian 12 with the -dev packages the build links against.
FROM swift:6.1-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends pkg-config protobuf-c-compiler libprotobuf-c-dev \
      libsqlite3-dev libpq-dev libsodium-dev libssl-dev libcurl4-openssl-dev libmicrohttpd-dev libstemmer-dev \
      libgmime-3.0-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN scripts/generate-proto --check \
 && swift build -c release --static-swift-stdlib \
 && mkdir /out \
 && for p in intake workflow notification knowledge gateway ocorre; do \
      [ -x ".build/release/$p" ] && cp ".build/release/$p" /out/; done; ls /out

# Stage 2: slim Debian with only the runtime libraries.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata libprotobuf-c1 libsqlite3-0 libpq5 \
      libsodium23 libssl3 libcurl4 libmicrohttpd12 libstemmer0d libgmime-3.0-0 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /data ocorrencias && mkdir /data && chown ocorrencias /data
COPY --from=build /out/ /usr/local/bin/
USER ocorrencias
ENV OCORRENCIAS_DATA_DIR=/data OCORRENCIAS_HOST=0.0.0.0
VOLUME /data
CMD ["gateway"]
