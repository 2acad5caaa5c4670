{{/* The release's name for its objects, e.g. "switchboard" or "RELEASE-switchboard". */}}
{{- define "switchboard.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "switchboard.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one component (web, worker, proxy, postgresql, redis, openfga). */}}
{{- define "switchboard.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "switchboard.image" -}}
{{ printf "%s:%s" .Values.image.repository .Values.image.tag | quote }}
{{- end -}}

{{/*
Every Switchboard process's environment: the ConfigMap's settings, then every key of the
Secret, then the addresses of the in-chart parts. Passwords stay in the Secret: the in-chart
PostgreSQL's URL names $(POSTGRES_PASSWORD), which Kubernetes fills in from it.
*/}}
{{- define "switchboard.env" -}}
envFrom:
  - configMapRef:
      name: {{ include "switchboard.fullname" . }}-config
  - secretRef:
      name: {{ .Values.secrets.name }}
env:
  - name: HOST
    value: 0.0.0.0
{{- if .Values.postgresql.enabled }}
  - name: POSTGRES_PASSWORD
    valueFrom:
      secretKeyRef:
        name: {{ .Values.secrets.name }}
        key: POSTGRES_PASSWORD
  - name: DATABASE_URL
    value: {{ printf "postgres://%s:$(POSTGRES_PASSWORD)@%s-postgresql:5432/%s" .Values.postgresql.user (include "switchboard.fullname" .) .Values.postgresql.database | quote }}
{{- end }}
{{- if .Values.redis.enabled }}
  - name: REDIS_URL
    value: {{ printf "redis://%s-redis:6379" (include "switchboard.fullname" .) | quote }}
{{- end }}
{{- if .Values.openfga.enabled }}
  - name: OPENFGA_API_URL
    value: {{ printf "http://%s-openfga:8080" (include "switchboard.fullname" .) | quote }}
{{- else if .Values.openfga.url }}
  - name: OPENFGA_API_URL
    value: {{ .Values.openfga.url | quote }}
{{- end }}
{{- if .Values.proxy.enabled }}
  - name: MODEL_PROXY_URL
    value: {{ printf "http://%s-proxy:%v" (include "switchboard.fullname" .) .Values.proxy.port | quote }}
{{- end }}
{{- end -}}

{{/* Switchboard's image runs as the unprivileged `node` user. */}}
{{- define "switchboard.podSecurity" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: 1000
  runAsGroup: 1000
  fsGroup: 1000
{{- end -}}

{{- define "switchboard.containerSecurity" -}}
securityContext:
  allowPrivilegeEscalation: false
  capabilities:
    drop: ["ALL"]
{{- end -}}

{{/* OpenFGA's datastore: the in-chart PostgreSQL's openfga database. */}}
{{- define "switchboard.openfgaEnv" -}}
env:
  - name: POSTGRES_PASSWORD
    valueFrom:
      secretKeyRef:
        name: {{ .Values.secrets.name }}
        key: POSTGRES_PASSWORD
  - name: OPENFGA_DATASTORE_ENGINE
    value: postgres
  - name: OPENFGA_DATASTORE_URI
    value: {{ printf "postgres://%s:$(POSTGRES_PASSWORD)@%s-postgresql:5432/openfga?sslmode=disable" .Values.postgresql.user (include "switchboard.fullname" .) | quote }}
{{- end -}}
