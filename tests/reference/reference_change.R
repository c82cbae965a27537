# Reference numbers from R's survey package for tests/test_change.py (change between waves and the
# linear trend over three waves on the stacked design).
#
# Usage (from the project root): Rscript tests/reference/reference_change.R
# Needs: r-base-core, r-cran-survey (Debian). Reads tests/reference/data/change_<wave>_respondents.csv
# and change_<wave>_population.csv (made by make_change_data.py) and writes
# tests/reference/change_results.csv in long form:
#   analysis, pair, scope, question, breakdown, group, term, value
#
# The stacked design: the waves' respondents one under the other, every wave's municipalities its
# own strata, post-strata within wave (docs/methods.md, 'Change between waves'):
#   d0 <- svydesign(ids = ~1, strata = ~wstratum, weights = ~1, data = stacked)   # wstratum = wave/kommune
#   d  <- postStratify(d0, ~ps, population)                                       # ps = wave/post-stratum
# A scope (all, or one municipality) and a group are a domain: subset() of the calibrated design.
# The change is the coefficient of the later wave in svyglm(score ~ factor(wave)) with svycontrast's
# normal interval (svyby(..., covmat = TRUE) followed by svycontrast stops on this design in
# survey 4.1.1: 'number of items to replace is not a multiple of replacement length').

suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "fail")

here <- "tests/reference"
waves <- c("w1", "w2", "w3")
numbers <- c(w1 = 1, w2 = 2, w3 = 4)
questions <- c("q1", "q2")
breakdowns <- list(total = NULL, koen = c("K", "M"), maalgruppe = c("m1", "m2"))

resp <- do.call(rbind, lapply(waves, function(w) {
  r <- read.csv(file.path(here, "data", paste0("change_", w, "_respondents.csv")), stringsAsFactors = FALSE)
  r$wave <- w
  r
}))
pop <- do.call(rbind, lapply(waves, function(w) {
  p <- read.csv(file.path(here, "data", paste0("change_", w, "_population.csv")), stringsAsFactors = FALSE)
  data.frame(ps = paste0(w, "/", p$stratum), Freq = p$Freq, stringsAsFactors = FALSE)
}))
resp$ps <- paste0(resp$wave, "/", resp$stratum)
resp$wstratum <- paste0(resp$wave, "/", resp$kommune)
resp$wave_number <- unname(numbers[resp$wave])
for (q in questions) resp[[paste0(q, "_5")]] <- as.numeric(resp[[q]] == 5)   # NA stays NA

d0 <- svydesign(ids = ~1, strata = ~wstratum, weights = ~1, data = resp)
d <- postStratify(d0, ~ps, pop)

out <- list()
add <- function(analysis, pair, scope, question, breakdown, group, term, value) {
  out[[length(out) + 1]] <<- data.frame(analysis = analysis, pair = pair, scope = scope, question = question,
                                         breakdown = breakdown, group = group, term = term,
                                         value = format(value, digits = 17), stringsAsFactors = FALSE)
}
domain <- function(scope, breakdown, group) {
  keep <- rep(TRUE, nrow(resp))
  if (scope != "all") keep <- keep & resp$kommune == scope
  if (breakdown != "total") keep <- keep & resp[[breakdown]] == group
  keep
}
cells <- function() {
  res <- list()
  for (b in names(breakdowns)) {
    levels <- if (is.null(breakdowns[[b]])) "" else breakdowns[[b]]
    for (g in levels) res[[length(res) + 1]] <- c(b, g)
  }
  res
}

# ---- change between two waves: svycontrast on svyby(covmat = TRUE), and svyglm ----------------------
pairs <- list(c("w1", "w2"), c("w2", "w3"), c("w1", "w3"))
for (pr in pairs) {
  pname <- paste(pr, collapse = "-")
  present <- intersect(unique(resp$kommune[resp$wave == pr[1]]), unique(resp$kommune[resp$wave == pr[2]]))
  for (scope in c("all", sort(present))) {
    for (cell in cells()) {
      b <- cell[1]; g <- cell[2]
      for (q in questions) for (kind in c("mean", "share_5")) {
        v <- if (kind == "mean") q else paste0(q, "_5")
        # the domain: the scope and group in the two waves (rows outside keep their place in the
        # calibrated design with zero weight; svymean's na.rm and svyglm drop the blanks the same way)
        keep <- domain(scope, b, g) & resp$wave %in% pr
        for (w in pr) {
          m <- svymean(as.formula(paste0("~", v)), d[keep & resp$wave == w, ], na.rm = TRUE)
          add(kind, pname, scope, q, b, g, paste0(w, "_estimate"), coef(m)[[1]])
          add(kind, pname, scope, q, b, g, paste0(w, "_se"), SE(m)[[1]])
        }
        # the change: the coefficient of the later wave in svyglm(score ~ factor(wave)) on the stacked
        # design (``later`` is that factor's indicator), as a svycontrast with its normal interval
        sub <- update(d[keep, ], later = as.numeric(wave == pr[2]))
        fit <- svyglm(as.formula(paste0(v, " ~ later")), sub)
        ctr <- svycontrast(fit, c(later = 1))
        est <- coef(ctr)[[1]]; se <- SE(ctr)[[1]]
        add(kind, pname, scope, q, b, g, "change", est)
        add(kind, pname, scope, q, b, g, "change_se", se)
        add(kind, pname, scope, q, b, g, "p_normal", 2 * pnorm(-abs(est / se)))
        ci <- confint(ctr)
        add(kind, pname, scope, q, b, g, "ci_low", ci[1, 1])
        add(kind, pname, scope, q, b, g, "ci_high", ci[1, 2])
        cf <- summary(fit)$coefficients
        add(kind, pname, scope, q, b, g, "glm_df", fit$df.residual)
        add(kind, pname, scope, q, b, g, "glm_p_t", cf["later", "Pr(>|t|)"])
      }
    }
  }
}

# ---- linear trend over the three waves: svyglm(score ~ wave_number) -----------------------------------
in_all <- Reduce(intersect, lapply(waves, function(w) unique(resp$kommune[resp$wave == w])))
for (scope in c("all", sort(in_all))) {
  for (cell in cells()) {
    b <- cell[1]; g <- cell[2]
    for (q in questions) {
      sub <- d[domain(scope, b, g), ]
      fit <- svyglm(as.formula(paste0(q, " ~ wave_number")), sub)
      cf <- summary(fit)$coefficients
      est <- cf["wave_number", "Estimate"]; se <- cf["wave_number", "Std. Error"]
      add("trend", "w1-w2-w3", scope, q, b, g, "slope", est)
      add("trend", "w1-w2-w3", scope, q, b, g, "se", se)
      add("trend", "w1-w2-w3", scope, q, b, g, "t", cf["wave_number", "t value"])
      add("trend", "w1-w2-w3", scope, q, b, g, "df", fit$df.residual)
      add("trend", "w1-w2-w3", scope, q, b, g, "p", cf["wave_number", "Pr(>|t|)"])
      add("trend", "w1-w2-w3", scope, q, b, g, "ci_low", est - qt(0.975, fit$df.residual) * se)
      add("trend", "w1-w2-w3", scope, q, b, g, "ci_high", est + qt(0.975, fit$df.residual) * se)
    }
  }
}

res <- do.call(rbind, out)
write.csv(res, file.path(here, "change_results.csv"), row.names = FALSE, fileEncoding = "UTF-8")
cat("R", R.version.string, "survey", as.character(packageVersion("survey")), "\n")
