{{/*
Names and labels.
*/}}
{{- define "warden.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "warden.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "warden.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels shared by every pod of the release (NetworkPolicy). */}}
{{- define "warden.selectorLabels" -}}
app.kubernetes.io/name: {{ include "warden.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The component of the Deployment's pods: gateway (mode server) or agent (mode sidecar). */}}
{{- define "warden.component" -}}
{{- if eq .Values.mode "sidecar" -}}agent{{- else -}}gateway{{- end -}}
{{- end -}}

{{/* Selector labels of the Deployment's pods (Service, PDB, spread). */}}
{{- define "warden.podSelectorLabels" -}}
{{ include "warden.selectorLabels" . }}
app.kubernetes.io/component: {{ include "warden.component" . }}
{{- end -}}

{{- define "warden.labels" -}}
helm.sh/chart: {{ include "warden.chart" . }}
{{ include "warden.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: warden
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "warden.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "warden.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* An image reference: repository@digest, else repository:tag. Call with the image dict and the default tag. */}}
{{- define "warden.imageRef" -}}
{{- $img := index . 0 -}}
{{- $tag := default (index . 1) $img.tag -}}
{{- if $img.digest -}}
{{- if not (regexMatch "^sha256:[0-9a-f]{64}$" $img.digest) -}}
{{- fail (printf "image.digest: want sha256: and 64 hex digits") -}}
{{- end -}}
{{- printf "%s@%s" $img.repository $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $img.repository (toString $tag) -}}
{{- end -}}
{{- end -}}

{{- define "warden.image" -}}
{{- include "warden.imageRef" (list .Values.image .Chart.AppVersion) -}}
{{- end -}}

{{/*
The config file, warden.yaml, as YAML: .Values.config with the keys the
chart owns set (see values.yaml, "config"), after refusing inline secrets.
Every error names the value to change.
*/}}
{{- define "warden.config" -}}
{{- $v := .Values -}}
{{- if not (has $v.mode (list "server" "sidecar")) -}}
{{- fail (printf "mode: %q is not server or sidecar" (toString $v.mode)) -}}
{{- end -}}
{{- $cfg := deepCopy ($v.config | default dict) -}}
{{- if not (kindIs "map" $cfg) -}}
{{- fail "config: want a mapping (the content of warden.yaml)" -}}
{{- end -}}
{{- /* data_dir */ -}}
{{- if and (get $cfg "data_dir") (ne (toString (get $cfg "data_dir")) $v.dataDir) -}}
{{- fail "config.data_dir: set dataDir instead (the chart mounts the data volume there)" -}}
{{- end -}}
{{- $_ := set $cfg "data_dir" $v.dataDir -}}
{{- /* server.listen */ -}}
{{- $server := get $cfg "server" | default dict -}}
{{- if not (get $server "listen") -}}
{{- $_ := set $server "listen" (ternary "127.0.0.1:8080" "0.0.0.0:8080" (eq $v.mode "sidecar")) -}}
{{- end -}}
{{- if not (regexMatch "^[^$]*:[0-9]+$" (toString (get $server "listen"))) -}}
{{- fail "config.server.listen: want HOST:PORT without ${…} (the chart takes the container port from it)" -}}
{{- end -}}
{{- /* store */ -}}
{{- $store := get $cfg "store" | default dict -}}
{{- if kindIs "string" $store -}}
{{- $store = dict "dsn" $store -}}
{{- end -}}
{{- if $v.postgresql.dsnSecret.name -}}
{{- if and (get $store "dsn") (ne (toString (get $store "dsn")) "${WARDEN_STORE_DSN}") -}}
{{- fail "config.store.dsn: leave it unset with postgresql.dsnSecret (the chart sets ${WARDEN_STORE_DSN})" -}}
{{- end -}}
{{- $_ := set $store "dsn" "${WARDEN_STORE_DSN}" -}}
{{- end -}}
{{- $dsn := toString (get $store "dsn" | default "") -}}
{{- if or (regexMatch "^postgres(ql)?://[^/@]*:[^/@]+@" $dsn) (regexMatch "[?&]password=" $dsn) -}}
{{- fail "config.store.dsn: holds a password; put the DSN in a Secret and name it in postgresql.dsnSecret" -}}
{{- end -}}
{{- $pg := or (hasPrefix "postgres" $dsn) (ne (toString $v.postgresql.dsnSecret.name) "") -}}
{{- /* store.migrate: YAML 1.1 reads an unquoted off as false */ -}}
{{- if and (hasKey $store "migrate") (kindIs "bool" (get $store "migrate")) -}}
{{- $_ := set $store "migrate" (ternary "auto" "off" (get $store "migrate")) -}}
{{- end -}}
{{- if $v.migration.enabled -}}
{{- if and (hasKey $store "migrate") (ne (toString (get $store "migrate")) "off") -}}
{{- fail "config.store.migrate: must be \"off\" (or unset) with migration.enabled: the Job migrates, the pods must not" -}}
{{- end -}}
{{- if not $pg -}}
{{- fail "migration.enabled: needs a PostgreSQL store (postgresql.dsnSecret); SQLite lives in the pod's volume and migrates on start" -}}
{{- end -}}
{{- $_ := set $store "migrate" "off" -}}
{{- end -}}
{{- if $store -}}
{{- $_ := set $cfg "store" $store -}}
{{- end -}}
{{- if and (eq $v.mode "server") (gt (int $v.replicaCount) 1) (not $pg) -}}
{{- fail (printf "replicaCount: %d replicas need a PostgreSQL store (postgresql.dsnSecret): SQLite is one process's" (int $v.replicaCount)) -}}
{{- end -}}
{{- /* server.limits.redis */ -}}
{{- $limits := get $server "limits" | default dict -}}
{{- if $v.redis.urlSecret.name -}}
{{- if and (get $limits "redis") (ne (toString (get $limits "redis")) "${WARDEN_REDIS_URL}") -}}
{{- fail "config.server.limits.redis: leave it unset with redis.urlSecret (the chart sets ${WARDEN_REDIS_URL})" -}}
{{- end -}}
{{- $_ := set $limits "redis" "${WARDEN_REDIS_URL}" -}}
{{- end -}}
{{- if regexMatch "^rediss?://[^/@]*:[^/@]+@" (toString (get $limits "redis" | default "")) -}}
{{- fail "config.server.limits.redis: holds a password; put the URL in a Secret and name it in redis.urlSecret" -}}
{{- end -}}
{{- if $limits -}}
{{- $_ := set $server "limits" $limits -}}
{{- end -}}
{{- $_ := set $cfg "server" $server -}}
{{- /* keys */ -}}
{{- $keys := get $cfg "keys" | default dict -}}
{{- if $v.kms.urlSecret.name -}}
{{- if and (get $keys "kms") (ne (toString (get $keys "kms")) "${WARDEN_KMS_URL}") -}}
{{- fail "config.keys.kms: leave it unset with kms.urlSecret (the chart sets ${WARDEN_KMS_URL})" -}}
{{- end -}}
{{- $_ := set $keys "kms" "${WARDEN_KMS_URL}" -}}
{{- end -}}
{{- if regexMatch "^base64key://." (toString (get $keys "kms" | default "")) -}}
{{- fail "config.keys.kms: a base64key:// URL is the key itself; put it in a Secret and name it in kms.urlSecret" -}}
{{- end -}}
{{- if get $keys "key_file" -}}
{{- fail "config.keys.key_file: a Secret volume cannot give the key file the owner-only mode Warden checks; use keys.kms, or keys.passphrase_env with secretEnv" -}}
{{- end -}}
{{- if $v.keyring.existingSecret -}}
{{- $path := printf "%s/keyring.json" $v.dataDir -}}
{{- if and (get $keys "keyring") (ne (toString (get $keys "keyring")) $path) -}}
{{- fail (printf "config.keys.keyring: leave it unset with keyring.existingSecret (the chart mounts it at %s)" $path) -}}
{{- end -}}
{{- $_ := set $keys "keyring" $path -}}
{{- if not (or (get $keys "kms") (get $keys "passphrase_env")) -}}
{{- fail "keyring.existingSecret: say what opens it: config.keys.kms (or kms.urlSecret) or config.keys.passphrase_env; a master.key generated in the pod would not" -}}
{{- end -}}
{{- else if $pg -}}
{{- /* The keyring seals what the shared store holds: every pod, now and after a restart, must open the same one. */ -}}
{{- $persistent := and (eq $v.mode "server") $v.persistence.enabled -}}
{{- if not $persistent -}}
{{- fail "keyring.existingSecret: a PostgreSQL store outlives an emptyDir data directory, and a new keyring there could not open what the store holds; create the keyring once and store it in a Secret (docs/DEPLOY.md)" -}}
{{- end -}}
{{- if and (gt (int $v.replicaCount) 1) (not (has "ReadWriteMany" $v.persistence.accessModes)) -}}
{{- fail "keyring.existingSecret: several replicas must open one keyring; create it once and store it in a Secret (docs/DEPLOY.md)" -}}
{{- end -}}
{{- end -}}
{{- if $keys -}}
{{- $_ := set $cfg "keys" $keys -}}
{{- end -}}
{{- toYaml $cfg -}}
{{- end -}}

{{/* server.listen of the rendered config. */}}
{{- define "warden.listen" -}}
{{- $cfg := include "warden.config" . | fromYaml -}}
{{- get (get $cfg "server") "listen" -}}
{{- end -}}

{{/* The container port: the port of server.listen. */}}
{{- define "warden.port" -}}
{{- regexFind "[0-9]+$" (include "warden.listen" .) -}}
{{- end -}}

{{/* HTTPS when server.tls is configured. */}}
{{- define "warden.tls" -}}
{{- $cfg := include "warden.config" . | fromYaml -}}
{{- if dig "server" "tls" "cert_file" "" $cfg -}}true{{- end -}}
{{- end -}}

{{- define "warden.portName" -}}
{{- if include "warden.tls" . -}}https{{- else -}}http{{- end -}}
{{- end -}}

{{/* "true" when server.config_watch_interval is a duration above zero. */}}
{{- define "warden.configWatch" -}}
{{- $cfg := include "warden.config" . | fromYaml -}}
{{- $w := toString (dig "server" "config_watch_interval" "" $cfg) -}}
{{- if and $w (not (regexMatch "^0+(\\.0+)?(ns|us|µs|ms|s|m|h)?$" $w)) -}}true{{- end -}}
{{- end -}}

{{/*
The pod annotation that rolls the pods when the config changes. With a
config watch only the keys Warden cannot reload count (data_dir, store,
keys, audit, server.listen, server.tls).
*/}}
{{- define "warden.configChecksum" -}}
{{- $cfg := include "warden.config" . | fromYaml -}}
{{- if include "warden.configWatch" . -}}
{{- $srv := get $cfg "server" | default dict -}}
{{- $restart := dict "data_dir" (get $cfg "data_dir") "store" (get $cfg "store") "keys" (get $cfg "keys") "audit" (get $cfg "audit") "listen" (get $srv "listen") "tls" (get $srv "tls") -}}
checksum/config-restart: {{ toYaml $restart | sha256sum }}
{{- else -}}
checksum/config: {{ include "warden.config" . | sha256sum }}
{{- end -}}
{{- end -}}

{{/* The environment variables the config names for secrets (*_env keys). */}}
{{- define "warden.secretEnvNames" -}}
{{- $cfg := include "warden.config" . | fromYaml -}}
{{- $names := list -}}
{{- range $u := (get $cfg "upstreams" | default list) -}}
{{- if and (kindIs "map" $u) (get $u "key_env") -}}{{- $names = append $names (get $u "key_env") -}}{{- end -}}
{{- end -}}
{{- range $s := (dig "mcp" "servers" list $cfg) -}}
{{- if and (kindIs "map" $s) (dig "auth" "key_env" "" $s) -}}{{- $names = append $names (dig "auth" "key_env" "" $s) -}}{{- end -}}
{{- end -}}
{{- with (dig "keys" "passphrase_env" "" $cfg) -}}{{- $names = append $names . -}}{{- end -}}
{{- with (dig "transform" "key_env" "" $cfg) -}}{{- $names = append $names . -}}{{- end -}}
{{- $names | uniq | toJson -}}
{{- end -}}

{{/* The Warden container's environment. */}}
{{- define "warden.env" -}}
{{- $v := .Values -}}
{{- $secretNames := include "warden.secretEnvNames" . | fromJsonArray -}}
{{- $reserved := list "WARDEN_DATA_DIR" "WARDEN_STORE_DSN" "WARDEN_REDIS_URL" "WARDEN_KMS_URL" "GOMEMLIMIT" -}}
- name: WARDEN_DATA_DIR
  value: {{ $v.dataDir | quote }}
{{- if and $v.goMemLimit (dig "limits" "memory" "" $v.resources) }}
- name: GOMEMLIMIT
  valueFrom:
    resourceFieldRef:
      resource: limits.memory
{{- end }}
{{- with $v.postgresql.dsnSecret }}
{{- if .name }}
- name: WARDEN_STORE_DSN
  valueFrom:
    secretKeyRef:
      name: {{ .name | quote }}
      key: {{ .key | quote }}
{{- end }}
{{- end }}
{{- with $v.redis.urlSecret }}
{{- if .name }}
- name: WARDEN_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .name | quote }}
      key: {{ .key | quote }}
{{- end }}
{{- end }}
{{- with $v.kms.urlSecret }}
{{- if .name }}
- name: WARDEN_KMS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .name | quote }}
      key: {{ .key | quote }}
{{- end }}
{{- end }}
{{- range $i, $e := $v.secretEnv }}
{{- if not (and $e.name $e.secretName $e.secretKey) }}
{{- fail (printf "secretEnv[%d]: want name, secretName and secretKey" $i) }}
{{- end }}
{{- if has $e.name $reserved }}
{{- fail (printf "secretEnv[%d].name: %s is set by the chart" $i $e.name) }}
{{- end }}
- name: {{ $e.name | quote }}
  valueFrom:
    secretKeyRef:
      name: {{ $e.secretName | quote }}
      key: {{ $e.secretKey | quote }}
      {{- if $e.optional }}
      optional: true
      {{- end }}
{{- end }}
{{- range $i, $e := $v.extraEnv }}
{{- if has $e.name $reserved }}
{{- fail (printf "extraEnv[%d].name: %s is set by the chart" $i $e.name) }}
{{- end }}
{{- if and (has $e.name $secretNames) (hasKey $e "value") }}
{{- fail (printf "extraEnv[%d]: %s holds a secret the config names (a *_env key); take it from a Secret with secretEnv" $i $e.name) }}
{{- end }}
- {{ toYaml $e | nindent 2 | trim }}
{{- end }}
{{- end -}}

{{/* Volume mounts of the Warden container. */}}
{{- define "warden.volumeMounts" -}}
- name: config
  mountPath: /etc/warden
  readOnly: true
- name: tmp
  mountPath: /tmp
- name: data
  mountPath: {{ .Values.dataDir }}
{{- if .Values.keyring.existingSecret }}
- name: keyring
  mountPath: {{ printf "%s/keyring.json" .Values.dataDir }}
  subPath: {{ .Values.keyring.key }}
  readOnly: true
{{- end }}
{{- with .Values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
Volumes of a pod running Warden. Call with (dict "root" $ "configMap" NAME
"persistent" BOOL): the migration Job passes its own ConfigMap and never
the claim.
*/}}
{{- define "warden.volumes" -}}
{{- $v := .root.Values -}}
- name: config
  projected:
    defaultMode: 0440
    sources:
      - configMap:
          name: {{ .configMap }}
          items:
            - key: warden.yaml
              path: warden.yaml
      {{- range $i, $s := $v.configSecrets }}
      {{- if not (and $s.name $s.items) }}
      {{- fail (printf "configSecrets[%d]: want name and items" $i) }}
      {{- end }}
      - secret:
          name: {{ $s.name | quote }}
          items:
            {{- range $s.items }}
            {{- if or (eq .path "warden.yaml") (hasPrefix "/" .path) (contains ".." .path) }}
            {{- fail (printf "configSecrets[%d]: path %q: want a relative path other than warden.yaml" $i .path) }}
            {{- end }}
            - key: {{ .key | quote }}
              path: {{ .path | quote }}
            {{- end }}
      {{- end }}
- name: tmp
  emptyDir:
    sizeLimit: {{ $v.tmp.sizeLimit }}
- name: data
{{- if and .persistent $v.persistence.enabled }}
  persistentVolumeClaim:
    claimName: {{ $v.persistence.existingClaim | default (include "warden.fullname" .root) }}
{{- else }}
  emptyDir:
    {{- toYaml $v.persistence.emptyDir | nindent 4 }}
{{- end }}
{{- if $v.keyring.existingSecret }}
- name: keyring
  secret:
    secretName: {{ $v.keyring.existingSecret | quote }}
    defaultMode: 0440
    items:
      - key: {{ $v.keyring.key | quote }}
        path: {{ $v.keyring.key | quote }}
{{- end }}
{{- with $v.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* An HTTP probe on the Warden port. Call with (dict "root" $ "probe" P). */}}
{{- define "warden.probe" -}}
httpGet:
  path: {{ .probe.path }}
  port: {{ include "warden.portName" .root }}
  scheme: {{ ternary "HTTPS" "HTTP" (eq (include "warden.tls" .root) "true") }}
periodSeconds: {{ .probe.periodSeconds }}
timeoutSeconds: {{ .probe.timeoutSeconds }}
failureThreshold: {{ .probe.failureThreshold }}
{{- end -}}

{{/*
The Warden container. Call with (dict "root" $ "sidecar" BOOL). In sidecar
mode it is named warden and, as a native sidecar, restarts always.
*/}}
{{- define "warden.container" -}}
{{- $v := .root.Values -}}
{{- $probes := or (not .sidecar) $v.sidecar.probes -}}
- name: warden
  image: {{ include "warden.image" .root | quote }}
  imagePullPolicy: {{ $v.image.pullPolicy }}
  {{- if and .sidecar $v.sidecar.native }}
  restartPolicy: Always
  {{- end }}
  args: ["serve", "--config", "/etc/warden/warden.yaml"]
  ports:
    - name: {{ include "warden.portName" .root }}
      containerPort: {{ include "warden.port" .root }}
      protocol: TCP
  env:
    {{- include "warden.env" .root | nindent 4 }}
  {{- with $v.envFrom }}
  envFrom:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if and $probes $v.probes.startup.enabled }}
  startupProbe:
    {{- include "warden.probe" (dict "root" .root "probe" $v.probes.startup) | nindent 4 }}
  {{- end }}
  {{- if and $probes $v.probes.liveness.enabled }}
  livenessProbe:
    {{- include "warden.probe" (dict "root" .root "probe" $v.probes.liveness) | nindent 4 }}
  {{- end }}
  {{- if and $probes $v.probes.readiness.enabled }}
  readinessProbe:
    {{- include "warden.probe" (dict "root" .root "probe" $v.probes.readiness) | nindent 4 }}
  {{- end }}
  {{- if gt (int $v.preStopSleepSeconds) 0 }}
  lifecycle:
    preStop:
      sleep:
        seconds: {{ int $v.preStopSleepSeconds }}
  {{- end }}
  resources:
    {{- toYaml $v.resources | nindent 4 }}
  securityContext:
    {{- toYaml $v.securityContext | nindent 4 }}
  volumeMounts:
    {{- include "warden.volumeMounts" .root | nindent 4 }}
{{- end -}}

{{/* The pod-level settings shared by the Deployment (both modes). */}}
{{- define "warden.podCommon" -}}
{{- $v := .Values -}}
serviceAccountName: {{ include "warden.serviceAccountName" . }}
automountServiceAccountToken: {{ $v.serviceAccount.automountServiceAccountToken }}
enableServiceLinks: false
terminationGracePeriodSeconds: {{ int $v.terminationGracePeriodSeconds }}
{{- with $v.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
securityContext:
  {{- toYaml $v.podSecurityContext | nindent 2 }}
{{- with $v.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if $v.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml $v.topologySpreadConstraints | nindent 2 }}
{{- else if $v.topologySpread.enabled }}
topologySpreadConstraints:
  {{- range $key, $when := dict "kubernetes.io/hostname" $v.topologySpread.hostname "topology.kubernetes.io/zone" $v.topologySpread.zone }}
  {{- if not (has $when (list "ScheduleAnyway" "DoNotSchedule")) }}
  {{- fail (printf "topologySpread: %q is not ScheduleAnyway or DoNotSchedule (for %s)" (toString $when) $key) }}
  {{- end }}
  - maxSkew: {{ int $v.topologySpread.maxSkew }}
    topologyKey: {{ $key }}
    whenUnsatisfiable: {{ $when }}
    labelSelector:
      matchLabels:
        {{- include "warden.podSelectorLabels" $ | nindent 8 }}
    matchLabelKeys: [pod-template-hash]
  {{- end }}
{{- end }}
{{- end -}}

{{/*
One NetworkPolicy egress rule from {cidrs, except, namespaceSelector,
podSelector, ports}. Call with (dict "rule" R "where" "networkPolicy.egress.X[i]").
*/}}
{{- define "warden.egressRule" -}}
{{- $r := .rule -}}
{{- if not (or $r.cidrs $r.namespaceSelector $r.podSelector) -}}
{{- fail (printf "%s: want cidrs, or namespaceSelector/podSelector" .where) -}}
{{- end -}}
{{- if not $r.ports -}}
{{- fail (printf "%s.ports: name the ports (an egress rule without ports allows every port)" .where) -}}
{{- end -}}
- to:
    {{- range $r.cidrs }}
    - ipBlock:
        cidr: {{ . }}
        {{- with $r.except }}
        except:
          {{- toYaml . | nindent 10 }}
        {{- end }}
    {{- end }}
    {{- if or $r.namespaceSelector $r.podSelector }}
    {{- $peer := dict }}
    {{- with $r.namespaceSelector }}{{ $_ := set $peer "namespaceSelector" . }}{{ end }}
    {{- with $r.podSelector }}{{ $_ := set $peer "podSelector" . }}{{ end }}
    - {{ toYaml $peer | nindent 6 | trim }}
    {{- end }}
  ports:
    {{- range $r.ports }}
    {{- if kindIs "map" . }}
    - port: {{ .port }}
      protocol: {{ .protocol | default "TCP" }}
    {{- else }}
    - port: {{ . }}
      protocol: TCP
    {{- end }}
    {{- end }}
{{- end -}}
